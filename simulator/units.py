"""Every unit conversion of the project, in one place.

Simulated time is in seconds, money in USD, tokens are counted as tokens. Names elsewhere carry
their unit (`usd_per_mtok`, `gpu_hours`, `ttft_ms`); the constants and helpers below are the only
place where one unit becomes another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

# A scalar or an array of them (one per month, say): the conversions below take either.
Quantity = TypeVar("Quantity", float, np.ndarray)

SECONDS_PER_MINUTE = 60.0
US_PER_SECOND = 1e6
SECONDS_PER_HOUR = 3600.0
MS_PER_SECOND = 1000.0
HOURS_PER_DAY = 24
MINUTES_PER_DAY = HOURS_PER_DAY * 60
MS_PER_DAY = MINUTES_PER_DAY * 60 * MS_PER_SECOND
DAYS_PER_WEEK = 7
MONTHS_PER_YEAR = 12
# A calendar-average month (365.25 / 12 days): rental and power bills over a horizon sum exactly
# to years of 8,766 hours.
DAYS_PER_MONTH = 365.25 / MONTHS_PER_YEAR
HOURS_PER_MONTH = DAYS_PER_MONTH * HOURS_PER_DAY
SECONDS_PER_DAY = HOURS_PER_DAY * SECONDS_PER_HOUR
SECONDS_PER_MONTH = DAYS_PER_MONTH * SECONDS_PER_DAY

TOKENS_PER_MTOK = 1_000_000
BYTES_PER_GB = 1e9  # decimal gigabytes, as GPU vendors quote bandwidth
BYTES_PER_GIB = 2**30  # binary gigabytes: HBM comes in them, and serving engines allocate in them
FLOPS_PER_TFLOPS = 1e12
PARAMS_PER_BILLION = 1e9
WATTS_PER_KW = 1000.0

# Bytes per weight at each serving precision. int4 counts the group scales of AWQ/GPTQ/Q4 formats
# (about 4.5 bits a weight) so that memory fits are not optimistic.
BYTES_PER_PARAM = {"fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 4.5 / 8}
# GGUF block formats store 32 weights a block with fp16 scales (and minimums): q8_0 is 32 int8 and
# a scale, 34 bytes; q4_0 16 bytes of nibbles and a scale; q4_1 adds a minimum; q5_* add 4 bytes
# of high bits (ggml-common.h).
GGUF_BYTES_PER_PARAM = {
    "f32": 4.0,
    "f16": 2.0,
    "bf16": 2.0,
    "q8_0": 34 / 32,
    "q5_1": 24 / 32,
    "q5_0": 22 / 32,
    "q4_1": 20 / 32,
    "q4_0": 18 / 32,
}


def bytes_per_param(precision: str) -> float | None:
    """Bytes a weight takes at a serving precision or GGUF type; None when the format is not known."""
    return BYTES_PER_PARAM.get(precision, GGUF_BYTES_PER_PARAM.get(precision))


def usd_per_mtok_to_usd_per_token(usd_per_mtok: float) -> float:
    return usd_per_mtok / TOKENS_PER_MTOK


def tokens_to_mtok(tokens: float) -> float:
    return tokens / TOKENS_PER_MTOK


def usd_per_year_to_usd_per_month(usd_per_year: float) -> float:
    return usd_per_year / MONTHS_PER_YEAR


def yearly_to_monthly_rate(rate_per_year: float) -> float:
    """Compound-equivalent monthly rate of a yearly rate (discounting, cost of capital)."""
    return (1.0 + rate_per_year) ** (1.0 / MONTHS_PER_YEAR) - 1.0


def decline_factor(decline_per_year: float, months_elapsed: Quantity) -> Quantity:
    """Price multiplier after `months_elapsed` months of a steady yearly decline."""
    return (1.0 - decline_per_year) ** (months_elapsed / MONTHS_PER_YEAR)


def watts_hours_to_kwh(watts: float, hours: Quantity) -> Quantity:
    return watts * hours / WATTS_PER_KW


def watts_to_kw(watts: float) -> float:
    return watts / WATTS_PER_KW


def per_day_to_per_second(per_day: float) -> float:
    return per_day / SECONDS_PER_DAY


def minutes_to_seconds(minutes: float) -> float:
    return minutes * SECONDS_PER_MINUTE


def seconds_to_ms(seconds: float) -> float:
    return seconds * MS_PER_SECOND


def seconds_to_us(seconds: float) -> float:
    return seconds * US_PER_SECOND


def ms_to_seconds(ms: float) -> float:
    return ms / MS_PER_SECOND


def us_to_seconds(us: float) -> float:
    return us / US_PER_SECOND


def percent_to_share(percent: float) -> float:
    return percent / 100


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money_text(amount: float, code: str) -> str:
    """Whole units of a currency as people read them: $1,234, -€1,234, ¥1,234, 1,234 CHF."""
    symbol = CURRENCY_SYMBOLS.get(code, "")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.0f}" if symbol else f"{sign}{abs(amount):,.0f} {code}"


@dataclass(frozen=True)
class Currency:
    """The currency money is shown in, and its rate: every sum is computed in USD and converted only
    where it is shown or exported."""

    code: str
    per_usd: float
    """Units of the currency one US dollar buys."""
    as_of: dt.date
    source: str

    @property
    def symbol(self) -> str:
        return CURRENCY_SYMBOLS.get(self.code, "")

    def of_usd(self, usd: Quantity) -> Quantity:
        return usd * self.per_usd

    def text(self, usd: float) -> str:
        """A sum in USD shown in whole units of this currency."""
        return money_text(self.of_usd(usd), self.code)

    @property
    def excel_format(self) -> str:
        """A spreadsheet number format showing whole units of the currency."""
        return f'"{self.symbol}"#,##0' if self.symbol else f'#,##0" {self.code}"'


def us_dollars(on: dt.date) -> Currency:
    """USD itself: the unit of computation, at a rate of one."""
    return Currency("USD", 1.0, on, "USD is the unit of computation")
