-- A partner channel's name as residents read it on the public pages ("经“1823 政府熱線”转来"), beside its NAME,
-- the short handle the command line and the audit use (hygiene-map channels add NAME --display 名称).
-- Empty means the NAME itself (channels made before this column).
ALTER TABLE partner_channels ADD COLUMN display_name text
    CHECK (display_name IS NULL OR length(display_name) BETWEEN 1 AND 50);
