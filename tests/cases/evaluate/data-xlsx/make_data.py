"""Writes data.xlsx with openpyxl, typed the way people type in Excel (run from this folder
with the project's virtual environment: ../../../../.venv/bin/python make_data.py)."""

import datetime

from openpyxl import Workbook

workbook = Workbook()
sheet = workbook.active
sheet.title = "绩效数据"
sheet.append(["agent_id", "name", "role", "team", "period", "客户满意度(%)", "平均处理时长", "工单数", "基本工资"])

# G1: a percent stored as the number 0.92 and shown as 92%; a duration stored as an Excel time.
sheet.append(["G1", "张三", "agent", "售后一组", "2026-11", 0.92, datetime.time(0, 6, 0), 120, 8000])
sheet["F2"].number_format = "0%"
sheet["G2"].number_format = "hh:mm:ss"
sheet["I2"].number_format = "#,##0"

# G2: the period typed as a date (Excel turns 2026-11 into 2026-11-01), the duration as text.
sheet.append(["G2", "李四", "agent", "售后二组", datetime.datetime(2026, 11, 1), 0.86, "10min", 95, 6500])
sheet["E3"].number_format = "yyyy-mm"
sheet["F3"].number_format = "0%"

# G3: a percent typed as text, a duration stored as an Excel duration ([h]:mm:ss).
sheet.append(["G3", "王五", "agent", "售后一组", "2026-11", "95%", datetime.timedelta(minutes=5), 130, 7000.5])
sheet["G4"].number_format = "[h]:mm:ss"

workbook.save("data.xlsx")
