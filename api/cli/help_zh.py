"""What each command does, in Chinese: the command lists, and the first line of each command's help.

Click words its help from docstrings, one language. The city's staff read
Chinese first (as on every page and print), so each command's Chinese line
is kept here, by the words typed to run it: the lists of commands show it,
and each command's ``--help`` shows it before the English. Options keep
their English help.
"""

from __future__ import annotations

import click

#: Each command's Chinese line, by the words typed after ``hygiene-map``.
SAID_ZH = {
    "": "hygiene-map：创卫的设施覆盖盲区、投诉热点、网格责任和巡查图",
    "analyze": "分析：覆盖盲区、对照标准的设施密度、投诉热点、网格巡查优先级、新设施选址",
    "analyze coverage": "各区域被设施服务半径覆盖的面积和人口",
    "analyze density": "各区域每平方公里、每万人的设施数，对照标准判定不足、达标或超出",
    "analyze hotspots": "投诉热点：六边形网格上的 Getis–Ord Gi* 冷热点",
    "analyze priority": "各网格的巡查优先级及其各项构成",
    "analyze siting": "在道路上选出覆盖居民（或面积、投诉）最多的新设施位置",
    "channels": "合作渠道：以 Open311 GeoReport v2 提交诉求，各有自己的 api_key",
    "channels add": "添加合作渠道并显示其 api_key（只显示这一次，只保存其散列）；--display 为公开页面上显示的名称",
    "channels disable": "停用合作渠道：此后拒绝其 api_key（已提交的诉求保留）",
    "city": "本数据库所描述的城市：名称、代码、度量坐标系、时区、数据时间",
    "city init": "设置城市（不载入演示数据）；已设置过则拒绝（改用 city set）",
    "city set": "修改城市设置；未给出的选项保持不变",
    "city show": "显示城市：名称、代码、度量坐标系、时区、数据时间、是否演示城市、行政区划",
    "db": "管理数据库：内置数据库集群（未设 DATABASE_URL 时）或 DATABASE_URL 所指的服务器",
    "db backup": "用 pg_dump 备份整个数据库（custom 格式）",
    "db down": "停止内置数据库集群（与 DATABASE_URL 无关）",
    "db migrate": "执行尚未应用的数据库结构迁移",
    "db restore": "把备份恢复到一个空数据库（要么全部恢复，要么不恢复）",
    "db status": "说明数据库是否在运行，并显示所用的连接地址",
    "db up": "创建（首次）并启动内置数据库集群，然后迁移；设了 DATABASE_URL 则检查并迁移",
    "demo": "载入虚构的演示城市（烟台附近），替换全部图层",
    "export": "把图层写成 QGIS、ArcGIS、Excel、奥维互动地图或 Google Earth 能打开的文件",
    "grids": "街道的网格：生成、按花名册分配、导出花名册、划分均衡的片区",
    "grids assign": "载入网格花名册：各网格的责任单位、网格长和电话；逐行检查，要么全部写入，要么不写",
    "grids balance": "把网格划为 N 个相连、工作量均衡的片区（投诉 + 设施），并报告不均衡程度",
    "grids generate": "把街道的社区切分为网格，自北向南、自西向东编号，并报告变化",
    "grids roster": "导出街道的网格花名册（XLSX）：网格代码、社区、责任单位、网格长、电话、设施、未结和超期投诉",
    "import": "把文件（CSV、XLSX、GeoJSON、Shapefile 文件夹或 zip、GeoPackage、KML）导入图层",
    "inspections": "明察暗访：检查轮次的文书",
    "inspections delete-round": "删除误建的检查轮次（须尚无问题记录），原因记入审计日志",
    "inspections edit-round": "修改检查轮次的名称、类型、明察或暗访、起止时间、街道；已记录的问题须仍在其范围内",
    "inspections problems": "导出某一轮次（某一街道）的问题清单：按责任单位列出每个问题及整改期限",
    "inspections round": "安排一轮检查：检查的街道及起止时间",
    "inspections rounds": "列出全部检查轮次（最新在前）：发现的问题、待整改和超期（督办）的数目",
    "print": "打印矢量 PDF 巡查图：单个网格、街道图册或巡查路线",
    "print atlas": "街道图册：总图、索引，然后每个网格一页",
    "print grid": "单个网格的巡查图：地图、检查清单、责任单位、二维码",
    "print route": "最需要检查的前 N 个网格的巡查路线，按较短的步行顺序",
    "report": "通报（周检查、月通报、年终考核）：街道和责任单位的指标与排名",
    "report bulletin": "写出包含 --date 那一期的通报（按城市时区）",
    "serve": "发布地图和 API",
    "users": "用户及其令牌（角色 admin、planner、street、inspector）",
    "users add": "添加用户并显示其令牌（只显示这一次，只保存其散列）",
    "users disable": "停用用户，此后拒绝其令牌（users enable 可重新启用）",
    "users rotate": "为用户换发令牌并显示新令牌（只显示这一次）；旧令牌和网页登录即刻失效",
    "users enable": "重新启用已停用的用户，沿用其现有令牌（令牌若已泄露，请先 users rotate）",
    "users list": "列出用户：名称、角色、范围、是否停用、创建时间、最近使用时间（从不显示令牌）；--unused-days N 只列 N 天以上未使用的启用用户",
}


def chinese_first(command: click.Command, path: str) -> click.Command:
    """``command`` listed by its Chinese line (:data:`SAID_ZH` [``path``]), which also heads its English help."""
    zh = SAID_ZH[path]
    english = command.help or ""
    command.short_help = zh
    command.help = f"{zh}\n\n{english}" if english else zh
    return command


def chinese_first_all(group: click.Group, path: str = "") -> None:
    """:func:`chinese_first` on every command below ``group`` that is built before it runs."""
    for name, command in group.commands.items():
        words = f"{path} {name}".strip()
        chinese_first(command, words)
        if isinstance(command, click.Group):
            chinese_first_all(command, words)
