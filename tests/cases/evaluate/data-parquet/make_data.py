"""Writes data.parquet with pyarrow, with typed columns (run from this folder with the
project's virtual environment: ../../../../.venv/bin/python make_data.py)."""

from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

table = pa.table({
    "agent_id": pa.array(["G1", "G2", "G3"]),
    "name": pa.array(["张三", "李四", "王五"]),
    "role": pa.array(["agent", "agent", "agent"]),
    "team": pa.array(["售后一组", "售后二组", "售后一组"]),
    "period": pa.array(["2026-11", "2026-11", "2026-11"]),
    "客户满意度(%)": pa.array([0.92, 0.86, 0.95], pa.float64()),
    "平均处理时长": pa.array([6.0, 10.0, 5.0], pa.float64()),  # minutes (`in min`)
    "工单数": pa.array([120, 95, None], pa.int64()),
    "基本工资": pa.array([Decimal("8000.00"), Decimal("6500.00"), Decimal("7000.50")], pa.decimal128(10, 2)),
})
pq.write_table(table, "data.parquet")
