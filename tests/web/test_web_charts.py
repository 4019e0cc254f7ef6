from tracker.web import charts
from tracker.web.charts import Series


def test_chart_labels_are_escaped():
    svg = charts.bar_chart("<b>Title</b>", ["<script>x</script>"], [Series("A&B", [3])])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;Title" in svg and "A&amp;B" in svg


def test_a_chart_has_a_title_axes_and_a_legend():
    svg = charts.line_chart("Burndown", ["d1", "d2"], [Series("Remaining", [5, 2]), Series("Ideal", [5, 0])])
    assert "<title>Burndown</title>" in svg and 'class="axis"' in svg and "Remaining" in svg


def test_an_empty_chart_says_so():
    assert "No data yet" in charts.bar_chart("Velocity", [], [Series("Done", [])])


def test_a_histogram_counts_values_per_bin():
    svg = charts.histogram("Loop time", [1, 2, 8, 100], bins=[0, 7, 14])
    assert "0–7 · : 2" in svg and "14+ · : 1" in svg


def test_axis_bounds_are_round_numbers():
    assert [charts.nice_max(v) for v in (7, 23, 180, 0)] == [10, 25, 200, 1]
