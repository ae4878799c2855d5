"""The 90-day chart's geometry: columns per day, stacked by category, scaled to the busiest day."""

from __future__ import annotations

from datetime import date

from web.chart import HEIGHT, WIDTH, daily_chart

TODAY = date(2026, 12, 3)


def test_columns_stack_categories_and_scale_to_the_busiest_day() -> None:
    chart = daily_chart(
        [
            (date(2026, 12, 1), "missile_launch", 1),
            (date(2026, 12, 3), "missile_launch", 3),
            (date(2026, 12, 3), "summit", 1),
        ],
        TODAY,
    )
    assert chart.peak == 4
    assert [c for c, _ in chart.legend] == ["missile_launch", "summit"]
    launch_today, summit_today = (b for b in chart.bars if b.label.startswith("2026-12-03"))
    assert launch_today.height == HEIGHT * 3 / 4 and summit_today.height == HEIGHT / 4
    assert summit_today.y == 0  # the busiest day's column reaches the top
    assert launch_today.y + launch_today.height == HEIGHT
    (earlier,) = (b for b in chart.bars if b.label.startswith("2026-12-01"))
    assert earlier.x == round(87 * WIDTH / 90, 1) and earlier.height == HEIGHT / 4


def test_days_outside_the_window_are_left_out() -> None:
    chart = daily_chart([(date(2026, 9, 4), "summit", 5), (date(2026, 12, 4), "summit", 1)], TODAY)
    assert chart.bars == [] and chart.peak == 0
    assert chart.first_day == date(2026, 9, 5)
