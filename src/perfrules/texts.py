"""Every fixed string perfrules says to a person, in Chinese and English, in one place.

The review packets (templates call ``t("key")``; the report code formats sentences with
:func:`sentence`), the explanations (:data:`EXPLAIN_WORDS`), the reasons a KPI was left
out or substituted and the label of an adjustment's limit (:data:`REASONS`), the labels
beside status codes in CSV and XLSX.  Keeping the two languages side by side makes a
missing translation a test failure (tests/test_texts.py: every table has the same keys in
both languages), not an empty box in a PDF.
"""

from __future__ import annotations

# The six statuses of a SMART target (language.md §13), in packets, CSV/XLSX labels and explain.
TARGET_STATUS_WORDS: dict[str, dict[str, str]] = {
    "zh": {"achieved": "已达成", "on_track": "按计划推进", "at_risk": "有风险", "not_met": "未达成",
           "missed": "已逾期未达成", "no_data": "无数据"},
    "en": {"achieved": "achieved", "on_track": "on track", "at_risk": "at risk", "not_met": "not met",
           "missed": "missed", "no_data": "no data"},
}

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "packet_title": "绩效面谈资料",
        "team_title": "团队绩效汇总",
        "agent": "员工", "agent_id": "工号", "role": "岗位", "team": "团队", "supervisor": "主管",
        "period": "考核周期", "policy": "考核方案", "version": "版本", "generated": "生成于",
        "score": "得分", "base_score": "基础分", "grade": "等级", "rank": "名次", "bonus": "奖金",
        "bonus_total": "奖金合计", "kpis": "关键指标", "kpi": "指标", "value": "实际值",
        "thresholds": "考核标准", "level": "等级", "points": "得分", "weight": "权重",
        "weighted": "加权得分", "status": "状态", "scored": "已计分", "excluded": "不计入",
        "substituted": "替代计分", "adjustments": "加减分", "no_adjustments": "本期无加减分",
        "veto": "一票否决", "no_veto": "未触发一票否决", "trend": "趋势", "trend_note": "近 {n} 个周期的得分与各指标",
        "swot": "SWOT 分析", "strength": "优势", "weakness": "不足", "opportunity": "机会", "threat": "风险",
        "none": "无", "plans": "改进计划", "no_plans": "本期无改进计划", "action": "行动", "due": "截止日期",
        "meeting": "面谈记录", "agreed_actions": "双方确认的行动", "agent_signature": "员工签名",
        "supervisor_signature": "主管签名", "date": "日期", "leaderboard": "排行榜",
        "grade_distribution": "等级分布", "kpi_averages": "各团队指标平均值", "vetoes": "一票否决",
        "agents_with_plans": "需要改进计划的员工", "people": "人", "all_teams": "全部",
        "page": "第 {page} 页", "sha": "方案指纹", "commit": "提交", "dirty": "有未提交的修改", "extends": "继承",
        # derived SWOT sentences
        "swot_head": "{kpi} {value}", "swot_level": "({level})", "clause_separator": ",",
        "at_best": "达到最高等级", "at_lowest": "处于最低等级", "in_top": "位于全员前 20%", "in_bottom": "位于全员后 20%",
        "scope_team": "团队", "scope_all": "全员",
        "above_median": "高于{scope}中位数 {median}", "below_median": "低于{scope}中位数 {median}",
        "at_median": "与{scope}中位数 {median} 持平",
        "run_month": "连续三个月", "run_quarter": "连续三个季度", "run_year": "连续三年", "run_period": "连续三个周期",
        "trend_up": "{run}提升", "trend_up_plain": "{run}上升", "trend_down": "{run}下降", "trend_values": "({values})",
        "near_floor": "再{change}将跌出{level}({threshold})", "on_floor": "恰在{level}线上({threshold}),稍有退步即跌出",
        "was_substituted": "{kpi}数据不足,按替代分计分:{reason}",
        "was_excluded": "{kpi}数据不足,本期不计分:{reason}",
        "close_to_next": "再{change}即可达到{level}({threshold})",
        "veto_hit": "触发一票否决:{name}",
        "sample_size": "样本 {count}", "plan_goal": "目标:{kpi} {value} → {target}({level}),{due} 前", "lower_is_better": "越低越好,图中向上为好", "veto_rank": "一票否决,名次不计", "veto_bonus": "一票否决,无奖金", "score_limited": "基础分加减分合计 {raw},按总分上下限计为 {score}", "score_rounding": "以上各项按两位小数显示,相加为 {sum};总分 {score} 由未经四舍五入的数值算出", "period_facts": "本期情况",
        "veto_near": "距离一票否决「{name}」只差一次",
        "more_points": "提升 {amount}", "less_time": "缩短 {amount}", "fewer": "减少 {amount}", "more": "增加 {amount}",
        "less_points": "下降 {amount}", "more_time": "延长 {amount}", "lower_by": "降低 {amount}", "higher_by": "升高 {amount}",
        "percentage_points": "{value} 个百分点",
        "note": "主管备注",
        # SMART targets and awards (statuses as CSV/XLSX labels and in packets)
        "targets": "目标", "awards": "荣誉", "goal": "目标值", "baseline": "基线", "progress": "进度",
        "expected": "应完成进度", "deadline": "截止日期",
        **TARGET_STATUS_WORDS["zh"],
        "smart_targets": "SMART 目标", "target_measure": "指标", "since": "自 {start}",
        "progress_both": "完成 {progress} / 应完成 {expected}", "progress_only": "完成 {progress}",
        "expected_only": "应完成 {expected}",
        "progress_legend": "进度条:从基线到目标已完成的比例;竖线:按已过时间应完成的比例",
        "award_streak": "连续 {n} 期", "honours": "荣誉榜", "award_title": "荣誉称号", "holders": "获得者",
        "no_holder": "本期无人获得", "targets_by_status": "目标完成情况(人数)", "own_goals": "各人目标",
        "standard_line": "{condition} 为{outcome}", "standard_else": "其余为{outcome}", "standard_and": " 且 ",
        "standard_or": " 或 ", "standard_any": "任意值", "points_outcome": "{points} 分",
        "note_line": "{note}:{text}",
        "action_now": "{kpi}:本期 {after}(上期无数据)", "action_moved": "{kpi}:上期 {before} → 本期 {after},{movement}",
        "moved_better": "有改善", "moved_worse": "有退步", "moved_same": "持平", "moved_changed": "有变化",
        "small_sample": "样本少(全员中位数 {median})", "small_team": "标 * 的团队不足 {count} 人,平均值仅供参考",
        "sample_floor": "{count}低于全员中位数 {median} 的 25%(少于 {floor})为样本少:该指标在面谈资料中标出,不列为优势或不足",
        "volume_total": "{count}合计",
        "last_actions": "上期约定的行动", "appendix": "附录:考核规则原文", "role_code": "岗位代码", "policy_file": "方案文件",
    },
    "en": {
        "packet_title": "Performance review packet",
        "team_title": "Team performance summary",
        "agent": "Agent", "agent_id": "ID", "role": "Role", "team": "Team", "supervisor": "Supervisor",
        "period": "Period", "policy": "Policy", "version": "version", "generated": "Generated",
        "score": "Score", "base_score": "Base score", "grade": "Grade", "rank": "Rank", "bonus": "Bonus",
        "bonus_total": "Bonus total", "kpis": "Key performance indicators", "kpi": "KPI", "value": "Value",
        "thresholds": "Thresholds", "level": "Level", "points": "Points", "weight": "Weight",
        "weighted": "Weighted", "status": "Status", "scored": "scored", "excluded": "excluded",
        "substituted": "substituted", "adjustments": "Adjustments", "no_adjustments": "No adjustments this period",
        "veto": "Red line (veto)", "no_veto": "No red line was hit", "trend": "Trend", "trend_note": "Score and KPIs over the last {n} periods",
        "swot": "SWOT", "strength": "Strengths", "weakness": "Weaknesses", "opportunity": "Opportunities", "threat": "Threats",
        "none": "none", "plans": "Improvement plan", "no_plans": "No improvement plan this period", "action": "Action", "due": "Due",
        "meeting": "Feedback meeting", "agreed_actions": "Agreed actions", "agent_signature": "Agent's signature",
        "supervisor_signature": "Supervisor's signature", "date": "Date", "leaderboard": "Leaderboard",
        "grade_distribution": "Grade distribution", "kpi_averages": "KPI averages by team", "vetoes": "Red lines hit",
        "agents_with_plans": "Agents with improvement plans", "people": "agents", "all_teams": "All",
        "page": "Page {page}", "sha": "Policy sha256", "commit": "commit", "dirty": "uncommitted changes", "extends": "extends",
        "swot_head": "{kpi} {value}", "swot_level": " ({level})", "clause_separator": ", ",
        "at_best": "at the best level", "at_lowest": "at the lowest level", "in_top": "in the top 20% overall",
        "in_bottom": "in the bottom 20% overall", "scope_team": "team", "scope_all": "overall",
        "above_median": "above the {scope} median of {median}", "below_median": "below the {scope} median of {median}",
        "at_median": "level with the {scope} median of {median}",
        "run_month": "three months in a row", "run_quarter": "three quarters in a row", "run_year": "three years in a row",
        "run_period": "three periods in a row",
        "trend_up": "up {run}", "trend_up_plain": "up {run}", "trend_down": "down {run}", "trend_values": " ({values})",
        "near_floor": "{change} loses {level} ({threshold})", "on_floor": "exactly on the {level} threshold ({threshold}): any slip loses it",
        "was_substituted": "{kpi} had too little data and was substituted: {reason}",
        "was_excluded": "{kpi} had too little data and was left out: {reason}",
        "close_to_next": "{change} reaches {level} ({threshold})",
        "veto_hit": "Red line hit: {name}",
        "sample_size": "n = {count}", "plan_goal": "Target: {kpi} {value} → {target} ({level}) by {due}", "lower_is_better": "lower is better, drawn upwards", "veto_rank": "does not count: red line hit", "veto_bonus": "none: red line hit", "score_limited": "Base score and adjustments add up to {raw}; the score limit makes it {score}", "score_rounding": "The numbers above, each shown with two decimals, add up to {sum}; the score {score} is computed from the unrounded values", "period_facts": "This period",
        "veto_near": "One more incident triggers the red line \"{name}\"",
        "more_points": "{amount} more", "less_time": "{amount} faster", "fewer": "{amount} fewer", "more": "{amount} more",
        "less_points": "{amount} lower", "more_time": "{amount} slower", "lower_by": "{amount} lower",
        "higher_by": "{amount} higher",
        "percentage_points": "{value} percentage points",
        "note": "Supervisor's note",
        # SMART targets and awards (statuses as CSV/XLSX labels and in packets)
        "targets": "Targets", "awards": "Awards", "goal": "Goal", "baseline": "Baseline", "progress": "Progress",
        "expected": "Expected by now", "deadline": "Deadline",
        **TARGET_STATUS_WORDS["en"],
        "smart_targets": "SMART targets", "target_measure": "Measure", "since": "from {start}",
        "progress_both": "{progress} done / {expected} expected", "progress_only": "{progress} done",
        "expected_only": "{expected} expected",
        "progress_legend": "Bar: the share of the way from baseline to goal done; mark: the share of the time elapsed",
        "award_streak": "{n} periods in a row", "honours": "Honours", "award_title": "Award", "holders": "Holders",
        "no_holder": "nobody this period", "targets_by_status": "Targets: agents per status", "own_goals": "each agent's goal",
        "standard_line": "{condition}: {outcome}", "standard_else": "otherwise: {outcome}", "standard_and": " and ",
        "standard_or": " or ", "standard_any": "any value", "points_outcome": "{points} points",
        "note_line": "{note}: {text}",
        "action_now": "{kpi}: {after} this period (no value last period)",
        "action_moved": "{kpi}: {before} last period → {after} this period, {movement}",
        "moved_better": "better", "moved_worse": "worse", "moved_same": "unchanged", "moved_changed": "changed",
        "small_sample": "small sample (median {median})",
        "small_team": "Teams marked * have fewer than {count} agents: their averages are only indicative",
        "sample_floor": "{count} under 25% of everyone's median of {median} (fewer than {floor}) is a small sample: "
                        "the packet marks the KPI and it is neither a strength nor a weakness",
        "volume_total": "{count} (total)",
        "last_actions": "Agreed last time", "appendix": "Appendix: the policy's rules as written", "role_code": "Role code",
        "policy_file": "Policy file",
    },
}


EXPLAIN_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "policy": "考核方案", "kpi": "指标", "weight": "权重", "line": "第 {n} 行", "points": "分",
        "missing": "缺失", "excluded": "不计入,其余指标的权重按比例放大",
        "substituted": "按 when missing 记为", "base": "基础分", "adjust": "加减分",
        "total": "合计", "limit": "上下限", "score": "得分", "score_limit": "总分上下限",
        "formula_clamp": "公式结果限定在 0 .. 100",
        "rank": "名次", "veto": "一票否决", "none": "无", "grade": "等级", "bonus": "奖金",
        "plans": "改进计划", "due": "截止", "position": "档内名次", "tier": "档内人数", "bonus_total": "奖金合计",
        "value": "数值", "nothing": "0(缺失按 0 计)", "extends": "继承",
        "targets": "目标", "target": "目标", "goal": "目标值", "baseline": "基线", "no_baseline": "无基线",
        "baseline_row": "{start} 之前最近一期的数值", "baseline_given": "方案给定",
        "progress": "进度", "expected": "应完成进度", "days": "已过 {elapsed} 天 / 共 {total} 天",
        "for_roles": "适用岗位", "worst": "取最差一条",
        **TARGET_STATUS_WORDS["zh"],
        "why_no_data": "实际值或目标值缺失", "why_achieved": "{value} {cmp} {goal} 成立",
        "why_missed": "本期结束于 {end},已到截止日期 {deadline}", "why_not_met": "没有基线或起始日期,无法判断进度",
        "why_on_track": "进度 {progress} ≥ 应完成 {expected}", "why_at_risk": "进度 {progress} < 应完成 {expected}",
        "met_means_one": "已达成,进度记为 1", "baseline_met": "基线已达到目标,进度记为 0",
        "awards": "荣誉", "award_held": "获得", "award_not_held": "未获得", "periods": "连续 {n} 个周期",
        "held": "条件成立", "not_held": "条件不成立", "no_row": "该员工本期无数据", "no_period": "数据中没有该周期",
        "error": "该期数据无法评估",
        # where a metric computed by metric definitions (*.perfm) came from
        "origin": "{what}:来自 {file} 的 {count} 行 {source}{where}", "origin_where": ",条件 {condition}",
        "agg_count": "行数", "agg_share": "满足 {condition} 的占比", "agg_distinct": "{value} 的不同值个数",
        "agg_sum": "{value} 之和", "agg_average": "{value} 的平均值", "agg_median": "{value} 的中位数",
        "agg_min": "{value} 的最小值", "agg_max": "{value} 的最大值",
    },
    "en": {
        "policy": "Policy", "kpi": "KPI", "weight": "weight", "line": "line {n}", "points": "points",
        "missing": "missing", "excluded": "left out; the other weights are scaled up",
        "substituted": "by `when missing` set to", "base": "Base score", "adjust": "Adjustment",
        "total": "total", "limit": "limit", "score": "Score", "score_limit": "score limit",
        "formula_clamp": "a formula's points are kept within 0 .. 100",
        "rank": "Rank", "veto": "Veto", "none": "none", "grade": "Grade", "bonus": "Bonus",
        "plans": "Improvement plans", "due": "due", "position": "position in the tier", "tier": "tier size",
        "bonus_total": "Bonus total",
        "value": "value", "nothing": "0 (missing counts as 0)", "extends": "extends",
        "targets": "Targets", "target": "Target", "goal": "goal", "baseline": "baseline", "no_baseline": "no baseline",
        "baseline_row": "the value of the latest period before {start}", "baseline_given": "given by the policy",
        "progress": "progress", "expected": "expected by now", "days": "{elapsed} of {total} days elapsed",
        "for_roles": "for roles", "worst": "its worst line",
        **TARGET_STATUS_WORDS["en"],
        "why_no_data": "the value or the goal is missing", "why_achieved": "{value} {cmp} {goal} holds",
        "why_missed": "the period ends on {end}, on or after the deadline {deadline}",
        "why_not_met": "no baseline or no start day: progress cannot be judged",
        "why_on_track": "progress {progress} ≥ expected {expected}", "why_at_risk": "progress {progress} < expected {expected}",
        "met_means_one": "met, so progress is 1", "baseline_met": "the baseline already met the goal, so progress is 0",
        "awards": "Awards", "award_held": "held", "award_not_held": "not held", "periods": "{n} periods in a row",
        "held": "condition held", "not_held": "condition did not hold", "no_row": "the agent has no row",
        "no_period": "the data has no row of this period", "error": "the agent's row cannot be evaluated",
        # where a metric computed by metric definitions (*.perfm) came from
        "origin": "{what} over {count} {source} of {file}{where}", "origin_where": " where {condition}",
        "agg_count": "count", "agg_share": "share where {condition}", "agg_distinct": "distinct count of {value}",
        "agg_sum": "sum of {value}", "agg_average": "average of {value}", "agg_median": "median of {value}",
        "agg_min": "min of {value}", "agg_max": "max of {value}",
    },
}


REASONS: dict[str, dict[str, str]] = {
    "zh": {
        "sample_missing": "{name} 的样本数 {count_name} 缺失",
        "sample_small": "{name} 的样本数 {count_name} 为 {count},少于 {minimum}",
        "missing": "{name} 缺失",
        "cannot": "无法计算(缺少数据或除以零)",
        "limit": "上下限",
    },
    "en": {
        "sample_missing": "{name}: the sample {count_name} is missing",
        "sample_small": "{name}: the sample {count_name} is {count}, below {minimum}",
        "missing": "{name} is missing",
        "cannot": "cannot be computed (missing data or a division by zero)",
        "limit": "limit",
    },
}


def texts(language: str) -> dict[str, str]:
    return TEXTS["en" if language == "en" else "zh"]


def sentence(language: str, key: str, **values) -> str:
    return texts(language)[key].format(**values)


def reason(language: str, key: str, **values) -> str:
    """A reason a KPI was not scored, or the label of a limit (:data:`REASONS`)."""
    return REASONS["en" if language == "en" else "zh"][key].format(**values)
