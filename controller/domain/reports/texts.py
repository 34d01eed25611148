"""The report's sentences, in Vietnamese (full diacritics) or English: title, period,
method text, notes and the words behind each target's verdict.

Numbers and dates inside sentences are written by :mod:`.cells`, so "1.234,5" and
"30/11/2026" read the same in a sentence as in a table.
"""

from __future__ import annotations

from datetime import date

from controller.domain.reports.cells import day, number
from controller.domain.reports.labels import Lang, label, source_name
from controller.domain.reports.model import PeriodOut

_QUARTERS = ("I", "II", "III", "IV")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _pick(lang: Lang, vi_text: str, en_text: str) -> str:
    return vi_text if lang == "vi" else en_text


def period_name(period: PeriodOut, lang: Lang) -> str:
    """ "tháng 11/2026", "tuần 47/2026", "quý IV/2026", … (or the English)."""
    first, last = period.first, period.last
    if period.kind == "day":
        return _pick(lang, f"ngày {day(first, lang)}", day(first, lang))
    if period.kind == "week":
        iso = first.isocalendar()
        return _pick(lang, f"tuần {iso.week}/{iso.year}", f"week {iso.week} of {iso.year}")
    if period.kind == "month":
        month = f"{first.month:02d}/{first.year}"
        return _pick(lang, f"tháng {month}", f"{_MONTHS_EN[first.month - 1]} {first.year}")
    if period.kind == "quarter":
        q = (first.month - 1) // 3
        return _pick(lang, f"quý {_QUARTERS[q]}/{first.year}", f"Q{q + 1} {first.year}")
    if period.kind == "year":
        return _pick(lang, f"năm {first.year}", str(first.year))
    return _pick(
        lang,
        f"từ {day(first, lang)} đến {day(last, lang)}",
        f"{day(first, lang)} to {day(last, lang)}",
    )


def date_span(period: PeriodOut, lang: Lang) -> str:
    """``01/11/2026 – 30/11/2026`` (one date for one day)."""
    if period.first == period.last:
        return day(period.first, lang)
    return f"{day(period.first, lang)} – {day(period.last, lang)}"


def title(place: str, period: PeriodOut, lang: Lang) -> str:
    """ "Báo cáo kết quả phát thanh: Phường Phúc Xá — tháng 11/2026"."""
    return f"{label('title', lang)}: {place} — {period_name(period, lang)}"


def signed_date(place: str, when: date, lang: Lang) -> str:
    """ "Phúc Xá, ngày 02 tháng 12 năm 2026" (or "Phúc Xá, 2 December 2026")."""
    if lang == "vi":
        return f"{place}, ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"
    return f"{place}, {when.day} {_MONTHS_EN[when.month - 1]} {when.year}"


def method(tolerance_s: float, deadline_s: float, lang: Lang) -> dict[str, str]:
    """The rules every figure follows, one paragraph each (the report's ``rules``)."""
    tol, dead = number(tolerance_s, lang), number(deadline_s, lang)
    if lang == "vi":
        return {
            "plays": "Lượt phát là một mục (bản tin, nhạc hiệu, tiếp sóng) trên một cụm loa. "
            "Lượt theo kế hoạch là lượt đã lên lịch và không bị rút trước giờ phát. Đã phát: "
            "cụm loa xác nhận hoàn thành hoặc phát một phần. Bị bỏ lỡ: không có xác nhận "
            f"sau {dead} giây kể từ giờ kết thúc dự kiến; chưa quá hạn đó là chờ xác nhận. "
            f"Đúng giờ: bắt đầu lệch không quá {tol} giây so với kế hoạch.",
            "session_played": "Một buổi phát được tính là đã phát khi ít nhất một mục của buổi "
            "được phát hoàn thành hoặc một phần trên cụm loa (với tổ/thôn hay phường/xã: trên "
            "ít nhất một cụm loa của nó).",
            "relay_minutes": "Số phút tiếp sóng của một ngày là của cụm loa tiếp sóng lâu nhất "
            "trong ngày; độ phủ và tỷ lệ sẵn sàng cho biết mức độ rộng khắp.",
            "coverage": "Một tổ dân phố/thôn được tính là đã nghe một bản tin khi ít nhất một "
            "lượt phát bản tin đó tại tổ được tính là đã phát: hoàn thành, hoặc phát một phần "
            "(ví dụ tin khẩn cấp bị hủy sau khi đã phát ra loa). Lượt bị tin khẩn cấp chen "
            "ngang không được tính là đã nghe, vì nội dung bị cắt.",
            "availability": "Tỷ lệ sẵn sàng của cụm loa = lượt được xác nhận / (lượt theo kế "
            "hoạch − lượt chờ xác nhận).",
            "targets": "Chỉ tiêu được đánh giá trên các ngày phát thanh đã kết thúc, kể từ ngày "
            "đầu tiên chương trình phát thanh của phường/xã áp dụng trọn ngày (chương trình "
            "được lưu hoặc lên lịch lần đầu trên hệ thống); các ngày trước đó ghi “chưa áp "
            "dụng”. Ngày không phát theo quy định của phường/xã và ngày nghỉ của mọi buổi "
            "không bị đánh giá.",
        }
    return {
        "plays": "A play is one item (bulletin, chime or relay) on one loudspeaker cluster. "
        "Planned plays are those scheduled and not withdrawn before they were due. Played: "
        "the cluster confirmed it completed or partially played. Missed: no confirmation "
        f"{dead} s after its planned end; before that it is pending. On time: started "
        f"within {tol} s of its planned start.",
        "session_played": "A session is played when at least one of its items completed or "
        "partially played on the cluster (for a group or ward: on at least one of its "
        "clusters).",
        "relay_minutes": "A day's relay minutes are those of the cluster that relayed longest "
        "that day; coverage and availability show how widely it was heard.",
        "coverage": "A residential group heard a bulletin when at least one play of it there "
        "counts as played: completed, or partially played (e.g. an emergency cancelled after "
        "it had sounded). A play cut by an emergency (preempted) is not counted as heard: its "
        "message was cut.",
        "availability": "A cluster's availability = plays confirmed / (plays planned − plays "
        "pending).",
        "targets": "Targets are judged on the broadcast days that have ended, from the first "
        "day the ward's programme applied all day (when it was first stored or planned); "
        "earlier days are “not applicable”. Days the ward does not broadcast and holidays of "
        "every session are not judged.",
    }


def no_programme(ward_code: str, lang: Lang) -> str:
    """Note: a ward without a programme has no targets."""
    return _pick(
        lang,
        f"Phường/xã {ward_code} chưa có chương trình phát thanh nên chưa có chỉ tiêu.",
        f"Ward {ward_code} has no programme, so no targets to judge.",
    )


def in_force_note(ward_code: str, first: date, before: int, lang: Lang) -> str:
    """Note: the programme applied only from ``first``; ``before`` days were not judged."""
    return _pick(
        lang,
        f"Chương trình phát thanh của phường/xã {ward_code} áp dụng từ ngày "
        f"{day(first, lang)}: {number(before, lang)} ngày trước đó của kỳ báo cáo ghi "
        "“chưa áp dụng”, không bị đánh giá.",
        f"Ward {ward_code}'s programme applied from {day(first, lang)}: the "
        f"{number(before, lang)} days of the period before it are “not applicable”, not judged.",
    )


def missed_note(count: int, deadline_s: float, lang: Lang) -> str:
    """Note: plays missed, and where they are listed."""
    n, dead = number(count, lang), number(deadline_s, lang)
    return _pick(
        lang,
        f"{n} lượt phát không được xác nhận sau hạn {dead} giây: bị bỏ lỡ (danh sách: "
        "GET /api/v1/evidence/missed hoặc wardcast report --missed).",
        f"{n} planned plays were not confirmed within {dead} s of their end: missed (listed "
        "by GET /api/v1/evidence/missed or wardcast report --missed).",
    )


def pending_note(count: int, lang: Lang) -> str:
    """Note: plays still within their confirmation deadline."""
    n = number(count, lang)
    return _pick(
        lang,
        f"{n} lượt phát còn trong hạn xác nhận: chờ xác nhận, chưa tính là bỏ lỡ.",
        f"{n} plays are not yet past their confirmation deadline: pending, not missed.",
    )


def unplanned_note(count: int, lang: Lang) -> str:
    """Note: evidence that matches no recorded plan."""
    n = number(count, lang)
    return _pick(
        lang,
        f"{n} xác nhận phát không khớp kế hoạch nào: tính là lượt phát ngoài kế hoạch.",
        f"{n} confirmations match no recorded plan: counted as unplanned.",
    )


def target_statement(kind: str, minimum: float, level: str | None, lang: Lang) -> str:
    """What a target asks, in words: "Ít nhất 2 buổi phát mỗi ngày phát thanh"."""
    n = number(minimum, lang)
    if kind == "sessions_per_day":
        return _pick(
            lang, f"Ít nhất {n} buổi phát mỗi ngày phát thanh", f"At least {n} sessions a day"
        )
    if kind == "days_per_week":
        return _pick(
            lang, f"Phát thanh ít nhất {n} ngày mỗi tuần", f"Broadcasts on at least {n} days a week"
        )
    source = source_name(level, lang)
    if lang == "vi":
        return f"Tiếp sóng ít nhất {n} phút mỗi ngày" + (f" (nguồn {source})" if source else "")
    return f"At least {n} relay minutes a day" + (f" ({source} sources)" if source else "")


def minimum_text(kind: str, minimum: float, lang: Lang) -> str:
    """A target's minimum with its unit: "2 buổi/ngày", "30 phút/ngày", "5 ngày/tuần"."""
    n = number(minimum, lang)
    units = {
        "sessions_per_day": ("buổi/ngày", "sessions/day"),
        "days_per_week": ("ngày/tuần", "days/week"),
        "relay_daily": ("phút/ngày", "min/day"),
    }
    unit = units.get(kind, ("", ""))
    return f"{n} {_pick(lang, *unit)}".strip()


def daily_figure(
    kind: str, met: int, judged: int, minimum: float, lowest: float, mean: float, lang: Lang
) -> str:
    """ "25/30 ngày phát thanh đạt ít nhất 2 buổi (thấp nhất 1, trung bình 1,8)"."""
    unit = _pick(lang, "buổi", "sessions") if kind == "sessions_per_day" else ""
    unit = unit or _pick(lang, "phút tiếp sóng", "relay minutes")
    m, lo, avg = number(minimum, lang), number(lowest, lang), number(round(mean, 1), lang)
    return _pick(
        lang,
        f"{met}/{judged} ngày phát thanh đạt ít nhất {m} {unit} (thấp nhất {lo}, trung bình {avg})",
        f"{met} of {judged} broadcast days had at least {m} {unit} (lowest {lo}, mean {avg})",
    )


def nothing_planned(count: int, lang: Lang) -> str:
    """Appended to a figure: judged days on which no session was even planned."""
    return _pick(
        lang,
        f"; {number(count, lang)} ngày không có buổi phát nào theo kế hoạch",
        f"; {number(count, lang)} days had no session planned",
    )


def weekly_figure(met: int, judged: int, minimum: float, lang: Lang) -> str:
    """ "3/4 tuần có buổi phát ở ít nhất 5 ngày (…)"."""
    m = number(minimum, lang)
    return _pick(
        lang,
        f"{met}/{judged} tuần có buổi phát ở ít nhất {m} ngày (tuần bị kỳ báo cáo cắt ngang "
        "chỉ cần số ngày còn có thể đạt)",
        f"{met} of {judged} weeks had sessions on at least {m} days (weeks cut by the period "
        "need only the days they could still reach)",
    )


def nothing_ended(lang: Lang) -> str:
    """Figure: nothing judged yet."""
    return _pick(
        lang,
        "chưa có ngày phát thanh nào (trong thời gian chương trình áp dụng) kết thúc",
        "no broadcast day of the period (with the programme in force) has ended yet",
    )


def not_applicable_figure(first: date | None, lang: Lang) -> str:
    """Figure: every day of the period is before the programme applied."""
    if first is None:
        return _pick(lang, "chương trình chưa áp dụng", "the programme did not apply yet")
    return _pick(
        lang,
        f"chương trình áp dụng từ ngày {day(first, lang)}, sau kỳ báo cáo",
        f"the programme applied from {day(first, lang)}, after the period",
    )


def before_in_force(first: date, before: int, lang: Lang) -> str:
    """Appended to a figure: the days before the programme applied."""
    return _pick(
        lang,
        f"; {before} ngày trước {day(first, lang)} chưa áp dụng",
        f"; {before} days before {day(first, lang)} not applicable",
    )


def short_day_entry(when: date, value: float, lang: Lang) -> str:
    """A day that fell short: ``18/11/2026: 1`` (or ``2026-11-18: 1``)."""
    return f"{day(when, lang)}: {number(value, lang)}"


def short_week_entry(year: int, week: int, achieved: int, required: int, lang: Lang) -> str:
    """A week that fell short: ``tuần 47/2026: 3/5 ngày`` (or ``2026-W47: 3 of 5 days``)."""
    return _pick(
        lang,
        f"tuần {week}/{year}: {achieved}/{required} ngày",
        f"{year}-W{week:02d}: {achieved} of {required} days",
    )
