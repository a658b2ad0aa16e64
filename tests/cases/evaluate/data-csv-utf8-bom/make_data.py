"""Writes data.csv in UTF-8 with a byte-order mark, as Excel's "CSV UTF-8" does (run from this folder)."""

TEXT = (
    "agent_id,name,role,team,period,客户满意度(%),平均处理时长,工单数,基本工资\r\n"
    'G1,张三,agent,售后一组,2026-11,0.92,6,120,"8,000.00"\r\n'
    "G2,李四,agent,售后二组,2026-11,86%,00:10:00,95,6500\r\n"
    "G3,王五,agent,售后一组,2026-11,95%,5,130,7000.50\r\n"
)

with open("data.csv", "wb") as handle:
    handle.write(TEXT.encode("utf-8-sig"))
