"""Writes data.xlsx with openpyxl: an empty row 3 and bad cells in rows 4 and 5 (run from this
folder with the project's virtual environment: ../../../../.venv/bin/python make_data.py)."""

from openpyxl import Workbook

workbook = Workbook()
sheet = workbook.active
sheet.append(["agent_id", "name", "role", "team", "period", "客户满意度(%)", "平均处理时长", "工单数", "基本工资"])
sheet.append(["G1", "张三", "agent", "售后一组", "2026-11", 0.92, 6, 120, 8000])
sheet.append([])  # row 3 left empty
sheet.append(["G2", "李四", "agent", "售后二组", "2026-11", "九十%", 10, 95, 6500])
sheet.append(["G3", "王五", "agent", "售后一组", "2026-11", 92, -3, 130, 7000.5])
workbook.save("data.xlsx")
