"""Every user-facing Chinese string of the service, keyed by code."""

MESSAGES: dict[str, str] = {
    "not_found": "未找到：{what}",
    "invalid_parameter": "参数 {field} 有误：{reason}",
    "invalid_request": "请求参数有误：{summary}",
    "conflict": "与已有数据冲突：{reason}",
    "database_unavailable": "数据库暂时不可用，请稍后再试",
    "internal_error": "服务器内部错误，请联系管理员（请求编号 {request_id}）",
    "bbox_format": "应为“最小经度,最小纬度,最大经度,最大纬度”四个数字，例如 120.5,30.6,120.6,30.7",
    "bbox_range": "经度应在 -180～180 之间，纬度应在 -90～90 之间",
    "bbox_order": "最小值不能大于最大值",
    "unknown_unit": "没有代码为“{code}”的镇（街道、开发区）",
    "unknown_block": "没有编号为“{code}”的区块",
    "unknown_crs": "无法识别坐标系“{crs}”，请填写如 EPSG:4549、EPSG:4528、EPSG:4490 或 CRS84",
    "not_geojson": "应为 GeoJSON 的 Feature 或 FeatureCollection",
    "no_features": "没有任何要素",
    "too_many_features": "一次最多分析 {limit} 个要素，本次 {count} 个",
    "bad_geometry": "{field} 第 {index} 个要素的几何无法解析",
    "bad_number": "第 {index} 个要素的 {field} 应为非负数，收到“{value}”",
    "neighbour_without_name": "四至参照要素第 {index} 个缺少名称（properties.name）",
    "bad_block_geometry": "区块边界不是有效的 GeoJSON 几何",
    "invalid_features": "共 {count} 处要素错误，第一处：{first}",
    "block_without_parcels": "区块“{code}”还没有宗地，无法分析",
    "unknown_enum": "“{value}”不是有效取值，可选：{choices}",
    # progress and assessment (一表, app/progress)
    "progress_year_range": "年份应在 2000～2100 之间",
    "progress_month_range": "月份应为 1～12 的整数",
    "progress_month_needs_year": "给出月份时须同时给出年份（year）",
    "progress_target_negative": "{field}不能为负数",
    "progress_target_year": "年度任务的年份应从 {first} 年起",
    "progress_target_invalid": "年度任务有误：{reason}",
    "progress_report_exists": "{year} 年 {month} 月的月度通报已于 {issued_at} 印发，通报一经印发不可修改或重发",
    "progress_report_not_ended": "{year} 年 {month} 月尚未结束，月底之后才能印发该月通报",
    "progress_report_not_found": "{year} 年 {month} 月的月度通报尚未印发",
    "progress_config_invalid": "考核配置有误：{reason}",
    "progress_admin_required": "此操作需要管理员身份：请在请求头 X-User 中填写经办人（接入统一登录后改为管理员角色校验）",
    "search_empty": "请输入要搜索的宗地编号、企业名称、统一社会信用代码或区块名称",
    "search_too_long": "关键字不能超过 {limit} 个字符",
    "export_format": "不支持的导出格式“{value}”，可选：geojson、shp、xlsx",
    "export_encoding": "不支持的编码“{value}”，可选：gbk、utf-8",
}


def message(key: str, **values: object) -> str:
    return MESSAGES[key].format(**values)
