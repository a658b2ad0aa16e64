"""Writes data.parquet with pyarrow: durations as Arrow durations, which pandas writes for a
Timedelta column (run from this folder with the project's virtual environment:
../../../../.venv/bin/python make_data.py)."""

from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq

table = pa.table({
    "agent_id": pa.array(["D1", "D2", "D3"]),
    "role": pa.array(["agent", "agent", "agent"]),
    "period": pa.array(["2026-11", "2026-11", "2026-11"]),
    "aht": pa.array([390, 720, None], pa.duration("s")),  # a metric `in min`: these are seconds
    # pandas' Timedelta: nanoseconds
    "hold": pa.array([timedelta(seconds=45), timedelta(seconds=90.5), timedelta(seconds=30)], pa.duration("ns")),
})
pq.write_table(table, "data.parquet")
