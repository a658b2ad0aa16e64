"""Writes data.csv in GB18030, as Chinese Excel exports it (run from this folder)."""

TEXT = (
    "agent_id,name,role,team,period,客户满意度(%),平均处理时长,工单数,基本工资\r\n"
    'G1,张三,agent,售后一组,2026-11,92%,6,120,"8,000"\r\n'
    "G2,李四,agent,售后二组,2026-11,0.86,10min,95,6500\r\n"
    "G3,王五,agent,售后一组,2026-11,95%,00:05:00,130,7000.5\r\n"
)

with open("data.csv", "wb") as handle:
    handle.write(TEXT.encode("gb18030"))
