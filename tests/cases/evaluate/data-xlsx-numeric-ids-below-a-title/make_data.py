"""Writes data.xlsx with openpyxl: a title in A1, an empty row 2, the headers in row 3, and
agent ids and teams typed as numbers (run from this folder with the project's virtual
environment: ../../../../.venv/bin/python make_data.py)."""

from openpyxl import Workbook

workbook = Workbook()
sheet = workbook.active
sheet.title = "十一月"
sheet.append(["2026年11月 售后客服绩效(导出)"])
sheet.append([])
sheet.append(["agent_id", "name", "role", "team", "period", "客户满意度(%)", "平均处理时长", "工单数", "基本工资"])
sheet.append([1001, "张三", "agent", 1, "2026-11", "92%", "6min", 120, 8000])
sheet.append([1002.0, "李四", "agent", 2, "2026-11", "86%", "10min", 95, 6500])
sheet.append([20261103, "王五", "agent", 1.0, "2026-11", "95%", "5min", 130, 7000])
workbook.save("data.xlsx")
