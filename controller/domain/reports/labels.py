"""Words the exports print: Vietnamese first (with full diacritics), English second.

Kept apart from the model so the JSON stays in stable English keys while CSV and
PDF speak to the evaluator in their language.
"""

from __future__ import annotations

# key -> (Vietnamese, English)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo phát thanh", "Broadcast report"),
    "scope": ("Phạm vi", "Scope"),
    "period": ("Kỳ báo cáo", "Period"),
    "as_of": ("Số liệu tính đến", "Figures as of"),
    "timezone": ("Múi giờ", "Time zone"),
    "summary": ("Tổng hợp", "Summary"),
    "sessions_planned": ("Buổi phát theo kế hoạch", "Sessions planned"),
    "sessions_played": ("Buổi đã phát", "Sessions played"),
    "sessions_rate": ("Tỷ lệ buổi đã phát", "Sessions played rate"),
    "plays_planned": ("Lượt phát theo kế hoạch", "Plays planned"),
    "plays_confirmed": ("Lượt được xác nhận", "Plays confirmed"),
    "plays_played": ("Lượt đã phát", "Plays played"),
    "plays_missed": ("Lượt bị bỏ lỡ", "Plays missed"),
    "plays_pending": ("Lượt chờ xác nhận", "Plays pending"),
    "plays_withdrawn": ("Lượt đã rút khỏi kế hoạch", "Plays withdrawn"),
    "plays_unplanned": ("Lượt phát ngoài kế hoạch", "Unplanned plays"),
    "on_time_rate": ("Tỷ lệ phát đúng giờ", "On-time rate"),
    "availability": ("Tỷ lệ sẵn sàng", "Availability"),
    "outcomes": ("Kết quả phát", "Outcomes"),
    "completed": ("Hoàn thành", "Completed"),
    "partial": ("Một phần", "Partial"),
    "preempted": ("Bị ưu tiên chen ngang", "Preempted"),
    "failed": ("Lỗi", "Failed"),
    "skipped": ("Bỏ qua", "Skipped"),
    "sources": ("Giờ phát theo cấp nguồn tin", "Hours by source level"),
    "source_level": ("Cấp nguồn tin", "Source level"),
    "central": ("Trung ương", "Central"),
    "provincial": ("Tỉnh", "Provincial"),
    "district": ("Huyện", "District"),
    "commune": ("Xã/phường", "Commune"),
    "planned_relay_h": ("Giờ tiếp sóng theo kế hoạch", "Relay hours planned"),
    "relayed_h": ("Giờ đã tiếp sóng", "Relay hours relayed"),
    "planned_content_h": ("Giờ bản tin theo kế hoạch", "Content hours planned"),
    "played_content_h": ("Giờ bản tin đã phát", "Content hours played"),
    "categories": ("Bản tin theo lĩnh vực", "Bulletins by category"),
    "category": ("Lĩnh vực", "Category"),
    "bulletins": ("Số bản tin", "Bulletins"),
    "coverage": ("Độ phủ bản tin", "Bulletin coverage"),
    "bulletin": ("Bản tin", "Bulletin"),
    "targeted_groups": ("Tổ/thôn được chọn", "Groups targeted"),
    "covered_groups": ("Tổ/thôn đã phát", "Groups covered"),
    "share": ("Tỷ lệ phủ", "Share"),
    "uncovered": ("Tổ/thôn chưa phát", "Groups not covered"),
    "devices": ("Cụm loa", "Loudspeaker clusters"),
    "device": ("Cụm loa", "Device"),
    "ward": ("Phường/xã", "Ward"),
    "group": ("Tổ dân phố/thôn", "Residential group"),
    "last_played": ("Lần phát gần nhất", "Last played"),
    "last_seen": ("Kết nối gần nhất", "Last seen"),
    "online": ("Trực tuyến", "Online"),
    "days": ("Theo ngày", "By day"),
    "date": ("Ngày", "Date"),
    "relay_minutes": ("Phút tiếp sóng", "Relay minutes"),
    "compliance": ("Đánh giá chỉ tiêu", "Targets"),
    "target": ("Chỉ tiêu", "Target"),
    "minimum": ("Mức tối thiểu", "Minimum"),
    "verdict": ("Kết quả", "Verdict"),
    "passed": ("Đạt", "Pass"),
    "failed_target": ("Không đạt", "Fail"),
    "unjudged": ("Chưa đánh giá", "Not judged"),
    "figure": ("Số liệu", "Figures"),
    "failing": ("Ngày/tuần chưa đạt", "Days/weeks short"),
    "wards": ("Theo phường/xã", "By ward"),
    "notes": ("Ghi chú", "Notes"),
    "rules": ("Cách tính", "How figures are judged"),
    "chart_sessions": ("Buổi phát: kế hoạch và đã phát", "Sessions: planned and played"),
    "chart_planned": ("Kế hoạch", "Planned"),
    "chart_played": ("Đã phát", "Played"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "name": ("Tên", "Name"),
    "code": ("Mã", "Code"),
    "measure": ("Chỉ số", "Measure"),
    "missed_list": ("Lượt phát bị bỏ lỡ", "Missed plays"),
    "planned_start": ("Giờ phát theo kế hoạch", "Planned start"),
    "duration_s": ("Thời lượng (giây)", "Duration (s)"),
    "kind": ("Loại", "Kind"),
    "session": ("Buổi", "Session"),
    "tolerance": ("Sai lệch cho phép (giây)", "On-time tolerance (s)"),
    "deadline": ("Hạn xác nhận (giây)", "Confirmation deadline (s)"),
    "targets_passed": ("Chỉ tiêu đạt", "Targets passed"),
    "targets_failed": ("Chỉ tiêu không đạt", "Targets failed"),
}

SCOPE_NAMES: dict[str, tuple[str, str]] = {
    "ward": ("Phường/xã", "Ward"),
    "group": ("Tổ dân phố/thôn", "Residential group"),
    "device": ("Cụm loa", "Device"),
    "district": ("Quận/huyện", "District"),
    "province": ("Tỉnh/thành phố", "Province"),
}


def vi(key: str) -> str:
    """The Vietnamese label of ``key`` (the key itself if there is none)."""
    return LABELS.get(key, (key, key))[0]


def en(key: str) -> str:
    """The English label of ``key``."""
    return LABELS.get(key, (key, key))[1]


def both(key: str) -> str:
    """``Vietnamese (English)``: how CSV headers read."""
    vi_text, en_text = LABELS.get(key, (key, key))
    return f"{vi_text} ({en_text})"
