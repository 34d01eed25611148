"""Words the exports print, in the report's language: Vietnamese (the default) or English.

Kept apart from the model so the JSON keeps stable English keys while the CSV, XLSX
and PDF speak to the evaluator in one language, with full diacritics in Vietnamese.
Sentences (method text, notes, verdict figures) are in :mod:`.texts`.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

# key -> (Vietnamese, English)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo kết quả phát thanh", "Broadcast report"),
    "report": ("Báo cáo", "Report"),
    "scope": ("Phạm vi", "Scope"),
    "period": ("Kỳ báo cáo", "Period"),
    "first": ("Từ ngày", "From"),
    "last": ("Đến ngày", "To"),
    "as_of": ("Số liệu tính đến", "Figures as of"),
    "timezone": ("Múi giờ", "Time zone"),
    "summary": ("Tổng hợp", "Summary"),
    "sessions_planned": ("Buổi phát theo kế hoạch", "Sessions planned"),
    "sessions_played": ("Buổi đã phát", "Sessions played"),
    "sessions_rate": ("Tỷ lệ buổi đã phát (%)", "Sessions played (%)"),
    "plays_planned": ("Lượt phát theo kế hoạch", "Plays planned"),
    "plays_confirmed": ("Lượt được xác nhận", "Plays confirmed"),
    "plays_played": ("Lượt đã phát", "Plays played"),
    "plays_missed": ("Lượt bị bỏ lỡ", "Plays missed"),
    "plays_pending": ("Lượt chờ xác nhận", "Plays pending"),
    "plays_withdrawn": ("Lượt đã rút khỏi kế hoạch", "Plays withdrawn"),
    "plays_unplanned": ("Lượt phát ngoài kế hoạch", "Unplanned plays"),
    "played_rate": ("Tỷ lệ lượt đã phát (%)", "Plays played (%)"),
    "on_time_rate": ("Tỷ lệ phát đúng giờ (%)", "On-time rate (%)"),
    "availability": ("Tỷ lệ sẵn sàng (%)", "Availability (%)"),
    "outcomes": ("Kết quả phát", "Outcomes"),
    "completed": ("Hoàn thành", "Completed"),
    "partial": ("Phát một phần", "Partial"),
    "preempted": ("Bị tin khẩn cấp chen ngang", "Preempted"),
    "failed": ("Lỗi", "Failed"),
    "skipped": ("Bỏ qua", "Skipped"),
    "sources": ("Thời lượng theo cấp nguồn tin", "Hours by source level"),
    "source_level": ("Cấp nguồn tin", "Source level"),
    "central": ("Trung ương", "Central"),
    "provincial": ("Tỉnh", "Provincial"),
    "district": ("Huyện", "District"),
    "commune": ("Xã/phường", "Commune"),
    "planned_relay_h": ("Giờ tiếp sóng kế hoạch", "Relay hours planned"),
    "relayed_h": ("Giờ đã tiếp sóng", "Relay hours relayed"),
    "planned_content_h": ("Giờ bản tin kế hoạch", "Content hours planned"),
    "played_content_h": ("Giờ bản tin đã phát", "Content hours played"),
    "categories": ("Bản tin theo lĩnh vực", "Bulletins by category"),
    "category": ("Lĩnh vực", "Category"),
    "bulletins": ("Số bản tin", "Bulletins"),
    "coverage": ("Độ phủ bản tin", "Bulletin coverage"),
    "bulletin": ("Bản tin", "Bulletin"),
    "bulletin_id": ("Mã bản tin", "Bulletin id"),
    "targeted_groups": ("Tổ/thôn được chọn", "Groups targeted"),
    "covered_groups": ("Tổ/thôn đã nghe", "Groups covered"),
    "share": ("Tỷ lệ phủ (%)", "Coverage (%)"),
    "uncovered": ("Tổ/thôn chưa nghe", "Groups not covered"),
    "devices": ("Cụm loa", "Loudspeaker clusters"),
    "device": ("Cụm loa", "Cluster"),
    "ward": ("Phường/xã", "Ward"),
    "ward_code": ("Mã phường/xã", "Ward code"),
    "group": ("Tổ/thôn", "Group"),
    "last_played": ("Lần phát gần nhất", "Last played"),
    "last_seen": ("Kết nối gần nhất", "Last seen"),
    "online": ("Trực tuyến", "Online"),
    "days": ("Theo ngày", "By day"),
    "date": ("Ngày", "Date"),
    "in_force": ("Chương trình áp dụng", "Programme in force"),
    "in_force_from": ("Áp dụng từ ngày", "In force from"),
    "days_not_applicable": ("Số ngày chưa áp dụng", "Days not applicable"),
    "description": ("Diễn giải của phường/xã", "The ward's wording"),
    "relay_minutes": ("Phút tiếp sóng", "Relay minutes"),
    "compliance": ("Đánh giá chỉ tiêu", "Targets"),
    "target": ("Chỉ tiêu", "Target"),
    "target_code": ("Mã chỉ tiêu", "Target code"),
    "minimum": ("Mức tối thiểu", "Minimum"),
    "verdict": ("Đánh giá", "Verdict"),
    "passed": ("Đạt", "Met"),
    "failed_target": ("Không đạt", "Not met"),
    "unjudged": ("Chưa đánh giá", "Not judged yet"),
    "not_applicable": ("Chưa áp dụng", "Not applicable"),
    "judged": ("Số ngày/tuần đánh giá", "Days/weeks judged"),
    "met": ("Số ngày/tuần đạt", "Days/weeks met"),
    "figure": ("Kết quả thực hiện", "Result"),
    "failing": ("Ngày/tuần chưa đạt", "Days/weeks short"),
    "wards": ("Theo phường/xã", "By ward"),
    "notes": ("Ghi chú", "Notes"),
    "note": ("Nội dung", "Text"),
    "method": ("Phương pháp tính", "How the figures are counted"),
    "part": ("Mục", "Part"),
    "chart_sessions": ("Biểu đồ buổi phát theo ngày", "Chart: sessions by day"),
    "chart_sources": (
        "Biểu đồ số phút phát theo cấp nguồn tin",
        "Chart: minutes by source level",
    ),
    "chart_planned": ("Kế hoạch", "Planned"),
    "chart_played": ("Đã phát", "Played"),
    "chart_minutes": ("phút", "minutes"),
    "chart_sessions_unit": ("buổi", "sessions"),
    "no_targets": (
        "Không có chỉ tiêu để đánh giá: phường/xã chưa có chương trình phát thanh.",
        "No targets to judge: the ward has no programme.",
    ),
    "sum_sessions": ("Buổi phát: đã phát/kế hoạch", "Sessions: played/planned"),
    "sum_plays": ("Lượt phát: đã phát/kế hoạch", "Plays: played/planned"),
    "sum_targets": ("Chỉ tiêu", "Targets"),
    "no_plays": ("Không có lượt phát nào trong kỳ báo cáo.", "No plays in the period."),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "name": ("Tên", "Name"),
    "code": ("Mã", "Code"),
    "measure": ("Chỉ số", "Measure"),
    "value": ("Số liệu", "Figure"),
    "number": ("STT", "No."),
    "missed_list": ("Lượt phát bị bỏ lỡ", "Missed plays"),
    "planned_start": ("Giờ phát theo kế hoạch", "Planned start"),
    "duration_s": ("Thời lượng (giây)", "Duration (s)"),
    "kind": ("Loại", "Kind"),
    "media": ("Bản tin", "Media"),
    "relay": ("Tiếp sóng", "Relay"),
    "session": ("Buổi", "Session"),
    "item_id": ("Mã lượt phát", "Item id"),
    "tolerance": ("Sai lệch cho phép (giây)", "On-time tolerance (s)"),
    "deadline": ("Hạn xác nhận (giây)", "Confirmation deadline (s)"),
    "targets_passed": ("Chỉ tiêu đạt", "Targets met"),
    "targets_failed": ("Chỉ tiêu không đạt", "Targets not met"),
    "page": ("Trang", "Page"),
    "more_rows": ("dòng khác: xem tệp CSV/XLSX", "more rows: see the CSV/XLSX files"),
    "motto_country": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "motto": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "authority": ("UBND", "People's Committee of"),
    "preparer": ("NGƯỜI LẬP BIỂU", "PREPARED BY"),
    "approver": ("TM. ỦY BAN NHÂN DÂN", "FOR THE PEOPLE'S COMMITTEE"),
    "approver_role": ("CHỦ TỊCH", "CHAIRPERSON"),
    "sign_hint": ("(Ký, ghi rõ họ tên)", "(Signature and full name)"),
    "seal_hint": ("(Ký, ghi rõ họ tên, đóng dấu)", "(Signature, full name and seal)"),
    "software": ("Lập bằng Wardcast", "Made with Wardcast"),
}

SCOPE_NAMES: dict[str, tuple[str, str]] = {
    "ward": ("Phường/xã", "Ward"),
    "group": ("Tổ dân phố/thôn", "Residential group"),
    "device": ("Cụm loa", "Loudspeaker cluster"),
    "district": ("Quận/huyện", "District"),
    "province": ("Tỉnh/thành phố", "Province"),
}

# Words a place's own name may start with: such a name already says its kind, so the
# report writes "Phường 1", never "Phường/xã Phường 1".
_KIND_WORDS = (
    "phường", "xã", "thị trấn", "quận", "huyện", "thị xã", "thành phố", "tp.", "tỉnh",
    "tổ", "thôn", "ấp", "bản", "khu phố", "khu", "xóm", "cụm", "đặc khu", "ward",
    "commune", "district", "province", "city", "town",
)  # fmt: skip

# Categories the product names (bulletins, plan items): key -> (Vietnamese, English).
# A ward's own category (any text) is printed as written.
CATEGORIES: dict[str, tuple[str, str]] = {
    "general": ("Thông tin chung", "General"),
    "health": ("Y tế", "Health"),
    "security": ("An ninh trật tự", "Security and order"),
    "disaster": ("Phòng chống thiên tai", "Disaster prevention"),
    "election": ("Bầu cử", "Elections"),
    "emergency": ("Khẩn cấp", "Emergency"),
    "education": ("Giáo dục", "Education"),
    "culture": ("Văn hóa", "Culture"),
    "agriculture": ("Nông nghiệp", "Agriculture"),
    "environment": ("Môi trường", "Environment"),
    "traffic": ("An toàn giao thông", "Road safety"),
    "law": ("Pháp luật", "Law"),
    "relay": ("Tiếp sóng", "Relay"),
    "chime": ("Nhạc hiệu", "Chime"),
}
_CATEGORY_BY_VI = {vi_name.casefold(): key for key, (vi_name, _) in CATEGORIES.items()}

TARGET_KINDS: dict[str, tuple[str, str]] = {
    "sessions_per_day": ("Số buổi phát mỗi ngày", "Sessions a day"),
    "days_per_week": ("Số ngày phát mỗi tuần", "Broadcast days a week"),
    "relay_daily": ("Số phút tiếp sóng mỗi ngày", "Relay minutes a day"),
}


def label(key: str, lang: Lang) -> str:
    """The label of ``key`` in ``lang`` (the key itself if there is none)."""
    pair = LABELS.get(key, (key, key))
    return pair[0] if lang == "vi" else pair[1]


def vi(key: str) -> str:
    """The Vietnamese label of ``key``."""
    return label(key, "vi")


def en(key: str) -> str:
    """The English label of ``key``."""
    return label(key, "en")


def category_name(category: str, lang: Lang) -> str:
    """A category as the reader says it: a known key or its Vietnamese name, translated."""
    key = category if category in CATEGORIES else _CATEGORY_BY_VI.get(category.casefold())
    if key is None:
        return category
    return CATEGORIES[key][0 if lang == "vi" else 1]


def source_name(level: str | None, lang: Lang) -> str:
    """A source level (central, provincial, district, commune) in words; empty for none."""
    return label(level, lang) if level else ""


def target_kind_name(kind: str, lang: Lang) -> str:
    """What a target counts, in words."""
    pair = TARGET_KINDS.get(kind, (kind, kind))
    return pair[0] if lang == "vi" else pair[1]


def says_its_kind(name: str) -> bool:
    """Whether a place's name starts with its kind ("Phường 1", "Xã Hòa Tiến")."""
    folded = name.strip().casefold()
    return any(folded == w or folded.startswith(w + " ") for w in _KIND_WORDS)


def place_title(kind: str, name: str, lang: Lang) -> str:
    """ "Phường Phúc Xá" for a name that says its kind, else "Phường/xã Phúc Xá"."""
    if says_its_kind(name):
        return name
    pair = SCOPE_NAMES.get(kind, (kind, kind))
    return f"{pair[0] if lang == 'vi' else pair[1]} {name}"
