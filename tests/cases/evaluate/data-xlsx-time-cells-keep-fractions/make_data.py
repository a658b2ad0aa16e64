"""Writes data.xlsx with openpyxl: handling times stored as Excel times, a fraction of a day
(run from this folder with the project's virtual environment: ../../../../.venv/bin/python make_data.py)."""

import openpyxl

workbook = openpyxl.Workbook()
sheet = workbook.active
sheet.append(["agent_id", "role", "period", "aht"])
for agent, seconds, shown in (("X1", 360.6, "hh:mm:ss"), ("X2", 359.5, "hh:mm:ss"), ("X3", 30 * 3600, "[h]:mm:ss")):
    sheet.append([agent, "agent", "2026-11", seconds / 86400])
    sheet.cell(sheet.max_row, 4).number_format = shown
workbook.save("data.xlsx")
