"""Text forms of credits, money, timestamps and durations, shared by the pages.

Credits are integers and 1 credit is US$0.001; money amounts are integer minor units.
"""

from __future__ import annotations

from datetime import UTC, datetime

CREDITS_PER_USD = 1000

# Currencies that Stripe counts in whole units (no cents).
_ZERO_DECIMAL_CURRENCIES = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                                      "vnd", "vuv", "xaf", "xof", "xpf"})


def format_credits(credits: int) -> str:
    """Format as `1,234 credits` (`1 credit` for one)."""
    unit = "credit" if abs(credits) == 1 else "credits"
    return f"{credits:,} {unit}"


def format_signed_credits(credits: int) -> str:
    """Format a balance change with its sign: `+5,000`, `-12`, `0`."""
    return f"{credits:+,}" if credits else "0"


def credits_to_usd(credits: int) -> str:
    """Format the US dollar value of `credits`, to the cent: 12,345 credits is `$12.35`."""
    sign = "-" if credits < 0 else ""
    return f"{sign}${abs(credits) / CREDITS_PER_USD:,.2f}"


def format_money(amount_minor: int, currency: str) -> str:
    """Format a price in minor units: 500 usd is `$5.00`, 1200 eur is `EUR 12.00`."""
    code = currency.lower()
    if code in _ZERO_DECIMAL_CURRENCIES:
        return f"{code.upper()} {amount_minor:,}"
    whole = f"{amount_minor / 100:,.2f}"
    return f"${whole}" if code == "usd" else f"{code.upper()} {whole}"


def format_timestamp(value: datetime | None) -> str:
    """Format as `2026-12-04 20:30:05 UTC`, or an empty string for None."""
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(started: datetime | None, finished: datetime | None, *, now: datetime | None = None) -> str:
    """Format the time from `started` to `finished` (or to `now` while still running).

    Returns an empty string when the run has not started. Under a minute the result keeps
    one decimal (`4.2 s`); longer spans read `3 min 05 s` or `1 h 02 min`.
    """
    if started is None:
        return ""
    end = finished or now or datetime.now(UTC)
    seconds = max((end - started).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {(whole % 3600) // 60:02d} min"


def format_bytes(size: int) -> str:
    """Format a file size with binary units: `812 B`, `1.5 KiB`, `3.2 MiB`."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
