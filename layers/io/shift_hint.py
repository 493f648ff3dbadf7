"""Whether a file's coordinates are in GCJ-02 or BD-09 read as WGS84: the hint an import gives, if any.

Chinese maps (Gaode, Tencent: GCJ-02; Baidu: BD-09) shift every point by a few hundred metres. A file in one of
them read as WGS84 has its points near the city's edge outside it; read back in its own system they come inside.
"""

from __future__ import annotations

import numpy as np

from data.said import Note
from geo import coords

#: Points inside the city kept to test a shifted reading on (a whole file moves, not only the points outside).
IN_CITY_SAMPLE = 2000


def shifted_note(areas, state) -> Note | None:
    """A whole file read in the wrong system sits off by the GCJ-02/BD-09 shift: the note that says so, if it does.

    ``state``: the file's :class:`~layers.io.batch.FileState`, with the points outside the city and a sample of
    those inside. A reading is suggested when it would at least halve the file's points outside the city: its
    points outside brought in, less those inside it would push out (estimated from the sample). Points at sea
    that a shift happens to bring ashore are not enough when it pushes as many others out.
    """
    if not state.off_city:
        return None
    lon, lat = np.concatenate([o[0] for o in state.off_city]), np.concatenate([o[1] for o in state.off_city])
    if len(lon) < 3:
        return None
    in_lon, in_lat = (np.concatenate([o[k] for o in state.in_city]) for k in (0, 1))
    for name, back in (("gcj02", coords.gcj02_to_wgs84), ("bd09", coords.bd09_to_wgs84)):
        still = int(areas.strictly_outside(*back(lon, lat)).sum())
        pushed = (areas.strictly_outside(*back(in_lon, in_lat)).mean() * state.in_city_n) if len(in_lon) else 0.0
        if still + pushed <= len(lon) // 2:
            maker = ("高德/腾讯", "Gaode/Tencent") if name == "gcj02" else ("百度", "Baidu")
            return Note(f"{len(lon)} 个点位于本市区域之外，按 {name.upper()}（{maker[0]}）读取时其中 {len(lon) - still} 个"
                        f"落入区域内：文件是否为 {name.upper()} 坐标？如是，请加 --crs {name} 导入",
                        f"{len(lon)} points lie outside the city's areas, and {len(lon) - still} of them fall inside "
                        f"when read as {name.upper()} ({maker[1]}): is the file in {name.upper()}? then import it "
                        f"with --crs {name}")
    return None
