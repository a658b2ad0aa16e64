"""Writes the example data: examples/agents.csv and examples/cx_team.csv.

agents.csv: three months of metric snapshots for 60 after-sales agents, and two quarters
for three supervisors of the VIP customers' team (role vip_supervisor, for
policies/vip_supervisor.perf, which extends policies/supervisor.perf): their columns are
the supervisor metrics, empty in the agents' rows, as in an export of several roles.

Three teams of twenty, roles agent and senior_agent, the metrics of
policies/after_sales_agent.perf, for 2026-09, 2026-10 and 2026-11.  The numbers are
invented but shaped like a real team: each agent has a steady level with monthly
noise, a few improve or slip over the quarter, some have too few satisfaction
surveys for csat to count, one has a serious complaint.  cx_team.csv: the same three
months for 16 customer-experience specialists of an international team, for
policies/customer_experience_en.perf.  Seeded: running it again gives the same
files.  Run: python examples/generate.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
         "平", "刚", "桂英", "晨", "欣怡", "子涵", "浩然", "雨桐", "思远", "佳琪", "嘉怡", "俊杰", "梓萱", "宇航", "一诺"]
TEAMS = ["售后一组", "售后二组", "售后三组"]
PERIODS = ["2026-09", "2026-10", "2026-11"]
HEADERS = ["agent_id", "name", "role", "team", "supervisor", "period", "reply_within_10min", "csat",
           "csat_responses", "resolution_rate", "aht", "qa_commendations", "attitude_violations",
           "serious_complaints", "base_salary", "training_completion", "staff_turnover", "team_reply_time",
           "complaints_received", "complaints_handled", "scheduling_accuracy", "team_csat", "major_incidents"]
SUPERVISORS = {"售后一组": "周主管", "售后二组": "吴主管", "售后三组": "郑主管"}


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def agent_rows(rng: random.Random, count: int = 60) -> list[dict]:
    """``count`` agents in teams of twenty, three months each, as CSV rows."""
    teams = TEAMS + [f"售后{index + 1}组" for index in range(len(TEAMS), (count + 19) // 20)]
    names: set[str] = set()
    agents = []
    for index in range(count):
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in names:
                names.add(name)
                break
        senior = index % 20 < 5
        agents.append({
            "agent_id": f"A{index + 1:03d}",
            "name": name,
            "role": "senior_agent" if senior else "agent",
            "team": teams[index // 20],
            "skill": clamp(rng.gauss(0.75 if senior else 0.55, 0.2), 0.0, 1.0),
            "trend": rng.choice([-0.04, -0.02, 0.0, 0.0, 0.0, 0.02, 0.04]),
            "salary": rng.randrange(9000, 15001, 500) if senior else rng.randrange(6000, 10001, 500),
        })
    rows = []
    for month, period in enumerate(PERIODS):
        for agent in agents:
            skill = clamp(agent["skill"] + agent["trend"] * month + rng.gauss(0, 0.06), 0.0, 1.0)
            responses = rng.choice([6, 8, 12, 15, 18, 22, 25, 30]) if rng.random() < 0.9 else rng.randrange(0, 10)
            rows.append({
                "agent_id": agent["agent_id"],
                "name": agent["name"],
                "role": agent["role"],
                "team": agent["team"],
                "supervisor": SUPERVISORS.get(agent["team"], f"主管{agent['team']}"),
                "period": period,
                "reply_within_10min": f"{clamp(79 + 20 * skill + rng.gauss(0, 2.5), 50, 100):.1f}%",
                "csat": f"{clamp(83.5 + 13 * skill + rng.gauss(0, 2), 60, 100):.1f}%" if responses else "",
                "csat_responses": responses,
                "resolution_rate": f"{clamp(89 + 9 * skill + rng.gauss(0, 1.5), 70, 100):.1f}%",
                "aht": f"{clamp(13 - 6 * skill + rng.gauss(0, 0.8), 4, 20):.1f}",
                "qa_commendations": max(0, round(rng.gauss(3 * skill, 1))),
                "attitude_violations": 1 if rng.random() < 0.05 + 0.1 * (1 - skill) else 0,
                "serious_complaints": 1 if (agent["agent_id"] == "A047" and period == PERIODS[-1]) else 0,
                "base_salary": f"{agent['salary']:,}",
            })
    return rows


VIP_SUPERVISORS = [("V01", "顾晓宁"), ("V02", "沈嘉言"), ("V03", "钱思远")]
QUARTERS = ["2026-Q3", "2026-Q4"]


def vip_supervisor_rows(rng: random.Random) -> list[dict]:
    """Two quarters for the VIP team's supervisors: the metrics of policies/supervisor.perf."""
    rows = []
    for quarter in QUARTERS:
        for index, (agent_id, name) in enumerate(VIP_SUPERVISORS):
            skill = clamp(0.55 + 0.2 * index + rng.gauss(0, 0.08), 0.0, 1.0)
            received = rng.randrange(4, 16)
            rows.append({
                "agent_id": agent_id, "name": name, "role": "vip_supervisor", "team": "VIP客服组",
                "supervisor": "陈经理", "period": quarter,
                "base_salary": f"{rng.randrange(30000, 36001, 1000):,}",
                "training_completion": f"{clamp(70 + 30 * skill + rng.gauss(0, 3), 50, 100):.1f}%",
                "staff_turnover": f"{clamp(6 - 5 * skill + rng.gauss(0, 0.8), 0, 20):.1f}%",
                "team_reply_time": f"{clamp(26 - 12 * skill + rng.gauss(0, 1.5), 8, 40):.1f}",
                "complaints_received": received,
                "complaints_handled": received - (rng.random() < 1 - skill) * rng.randrange(1, 3),
                "scheduling_accuracy": f"{clamp(90 + 9 * skill + rng.gauss(0, 1), 80, 100):.1f}%",
                "team_csat": f"{clamp(87 + 10 * skill + rng.gauss(0, 1.2), 75, 100):.1f}%",
                "major_incidents": 0,
            })
    return rows


def main() -> None:
    rows = agent_rows(random.Random(20261130)) + vip_supervisor_rows(random.Random(20261202))
    write(Path(__file__).resolve().parent / "agents.csv", HEADERS, rows)
    write_cx_team(random.Random(20261201))


CX_NAMES = ["Alice Martin", "Bruno Silva", "Chloé Dubois", "Daniel Kim", "Emma Novak", "Farid Haddad",
            "Grace Okafor", "Hiro Tanaka", "Isabel Costa", "Jonas Weber", "Kavya Rao", "Liam O'Brien",
            "Maria Rossi", "Nina Petrova", "Omar Aziz", "Priya Shah"]
CX_HEADERS = ["agent_id", "name", "role", "team", "supervisor", "period", "csat_score", "csat_surveys", "nps",
              "resolution_rate", "upheld_escalations", "kudos", "base_salary"]


def write_cx_team(rng: random.Random) -> None:
    rows = []
    skills = [clamp(rng.gauss(0.6, 0.2), 0.0, 1.0) for _ in CX_NAMES]
    trends = [rng.choice([-0.05, 0.0, 0.0, 0.05]) for _ in CX_NAMES]
    for month, period in enumerate(PERIODS):
        for index, name in enumerate(CX_NAMES):
            skill = clamp(skills[index] + trends[index] * month + rng.gauss(0, 0.05), 0.0, 1.0)
            surveys = rng.choice([12, 18, 25, 31, 40])
            rows.append({
                "agent_id": f"CX{index + 1:02d}", "name": name, "role": "cx_specialist",
                "team": "EMEA" if index < 8 else "APAC", "supervisor": "Sam Lee" if index < 8 else "Mei Chen",
                "period": period,
                "csat_score": f"{clamp(3.9 + 1.0 * skill + rng.gauss(0, 0.08), 1, 5):.2f}",
                "csat_surveys": surveys,
                "nps": round(clamp(38 + 35 * skill + rng.gauss(0, 5), -100, 100)),
                "resolution_rate": f"{clamp(0.88 + 0.1 * skill + rng.gauss(0, 0.01), 0, 1):.3f}",
                "upheld_escalations": 1 if rng.random() < 0.08 else 0,
                "kudos": max(0, round(rng.gauss(2 * skill, 1))),
                "base_salary": f"{rng.randrange(4000, 6001, 250)}",
            })
    write(Path(__file__).resolve().parent / "cx_team.csv", CX_HEADERS, rows)


def write(target: Path, headers: list[str], rows: list[dict]) -> None:
    with target.open("w", encoding="utf-8-sig", newline="") as handle:  # "CSV UTF-8" as Excel saves it
        writer = csv.DictWriter(handle, fieldnames=headers)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {target} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
