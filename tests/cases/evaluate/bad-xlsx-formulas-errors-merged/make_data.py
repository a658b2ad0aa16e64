"""Writes data.xlsx with openpyxl: a formula without a saved value (openpyxl, like every program
that is not Excel, saves none), an error cell and a merged range (run from this folder with the
project's virtual environment: ../../../../.venv/bin/python make_data.py)."""

from openpyxl import Workbook

workbook = Workbook()
sheet = workbook.active
sheet.append(["agent_id", "name", "role", "team", "period", "客户满意度(%)", "平均处理时长", "工单数", "基本工资"])
sheet.append(["G1", "张三", "agent", "售后一组", "2026-11", 0.92, 6, 120, 8000])
sheet.append(["G2", "李四", "agent", "售后二组", "2026-11", "=0.9*1", 10, 95, 6500])
sheet.append(["G3", "王五", "agent", "售后一组", "2026-11", 0.95, "#DIV/0!", 130, 7000.5])
sheet.append(["G4", "赵六", "agent", "售后一组", "2026-11", 0.88, 7, 110, 7200])
sheet.merge_cells("B5:D5")  # name, role and team of G4: one value and two blanks
workbook.save("data.xlsx")
