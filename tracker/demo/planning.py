"""Planning the demo data in memory: which items each project has, which sprints they ran
in and when their status changed, and what customers said about them. The Seeder writes the
plan to the database afterwards."""

import random
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from tracker.demo import texts
from tracker.models import (
    Channel,
    Customer,
    Feedback,
    ItemKind,
    ItemStatus,
    Project,
    Segment,
    SprintState,
    TriageState,
    Workspace,
)

SPRINT_DAYS = 14
CHANNELS_BY_SEGMENT = {
    Segment.END_CUSTOMER: [
        Channel.SURVEY,
        Channel.SUPPORT,
        Channel.SOCIAL,
        Channel.FORUM,
        Channel.WEB_FORM,
        Channel.USER_TEST,
        Channel.EMAIL,
    ],
    Segment.EMPLOYEE: [Channel.SUPPORT, Channel.EMAIL, Channel.SURVEY, Channel.INTERVIEW],
    Segment.MANAGEMENT: [Channel.INTERVIEW, Channel.EMAIL, Channel.SPRINT_REVIEW, Channel.SALES],
    Segment.PARTNER: [Channel.SALES, Channel.EMAIL, Channel.INTERVIEW, Channel.SURVEY],
}


class Planner:
    """Mixed into the Seeder: builds plans from its random generator, writes nothing."""

    rng: random.Random
    scale: int
    now: datetime
    today: date

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def aware(self, day: date, hour: int = 10) -> datetime:
        return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
            hours=hour, minutes=self.rng.randint(0, 59)
        )

    def plan_projects(
        self, ws: Workspace, projects: list[Project], specs: list, users: dict, total_items: int
    ) -> list[dict]:
        rng = self.rng
        per_project = max(40, total_items // len(projects))
        closed_sprints = 6 if self.scale == 1 else min(40, 6 + self.scale // 5)
        plans = []
        developers = [users["dana"], users["devon"], users["sam"]]
        for project, spec in zip(projects, specs, strict=True):
            themes = spec[3]
            items: list[dict] = []
            epics = []
            for label in sorted({t[2] for t in themes})[:8]:
                epics.append(
                    {
                        "id": self.uuid(),
                        "kind": ItemKind.EPIC,
                        "title": f"{label.replace('-', ' ').title()} improvements",
                        "labels": [label],
                        "theme": None,
                        "epic": None,
                    }
                )
            items.extend(epics)
            epic_by_label = {e["labels"][0]: e["id"] for e in epics}
            theme_items: dict[int, list[dict]] = defaultdict(list)
            while len(items) < per_project:
                if rng.random() < 0.75:
                    t_index = rng.randrange(len(themes))
                    title, kind, label, _phrases = themes[t_index]
                    n = len(theme_items[t_index])
                    item = {
                        "id": self.uuid(),
                        "kind": kind,
                        "title": title
                        if n == 0
                        else f"{title}: {texts.ASPECTS[(n - 1) % len(texts.ASPECTS)]}"
                        + (f" ({(n - 1) // len(texts.ASPECTS) + 2})" if n > len(texts.ASPECTS) else ""),
                        "labels": [label],
                        "theme": t_index,
                        "epic": epic_by_label.get(label),
                    }
                    theme_items[t_index].append(item)
                else:
                    title, kind = rng.choice(texts.INTERNAL_WORK)
                    item = {
                        "id": self.uuid(),
                        "kind": kind,
                        "title": title,
                        "labels": ["tech-debt"],
                        "theme": None,
                        "epic": None,
                    }
                items.append(item)
            for item in items:
                item["estimate"] = (
                    None if item["kind"] == ItemKind.EPIC else Decimal(rng.choice([1, 2, 3, 3, 5, 5, 8, 13]))
                )
                item["status"] = ItemStatus.BACKLOG
                item["priority"] = rng.choice([2, 3, 3, 3, 4, 5])
                item["sprint"] = None
                item["assignee"] = None
                item["done_at"] = None
                item["events"] = []  # (at, field, old, new, sprint_id)
            # Sprints: closed ones back in time, one active, one planned.
            first_start = self.today - timedelta(days=SPRINT_DAYS * closed_sprints + 5)
            sprints = []
            for n in range(1, closed_sprints + 3):
                start = first_start + timedelta(days=SPRINT_DAYS * (n - 1))
                state = (
                    SprintState.CLOSED
                    if n <= closed_sprints
                    else SprintState.ACTIVE
                    if n == closed_sprints + 1
                    else SprintState.PLANNED
                )
                goals = [t[0] for t in rng.sample(themes, k=min(2, len(themes)))]
                sprints.append(
                    {
                        "id": self.uuid(),
                        "number": n,
                        "name": f"Sprint {n}",
                        "start": start,
                        "end": start + timedelta(days=SPRINT_DAYS - 1),
                        "state": state,
                        "capacity": rng.choice([24, 26, 28, 30]),
                        "goal": f"{goals[0]} and {goals[-1].lower()}",
                        "items": [],
                    }
                )
            candidates = [i for i in items if i["kind"] != ItemKind.EPIC]
            # Feedback-backed work first, so reviews have customers to show.
            rng.shuffle(candidates)
            candidates.sort(key=lambda i: i["theme"] is None)
            pool = iter(candidates)
            carried: list[dict] = []
            for sprint in sprints[:-1]:
                chosen = carried
                points = sum(float(i["estimate"]) for i in chosen)
                while points < sprint["capacity"] * rng.uniform(0.85, 1.1):
                    item = next(pool, None)
                    if item is None:
                        break
                    chosen.append(item)
                    points += float(item["estimate"])
                sprint["items"] = list(chosen)
                start_at = self.aware(sprint["start"], 9)
                carried = []
                for item in chosen:
                    old_sprint = item["sprint"]
                    item["sprint"] = sprint["id"]
                    item["events"].append(
                        (
                            start_at - timedelta(hours=2),
                            "sprint",
                            str(old_sprint) if old_sprint else None,
                            str(sprint["id"]),
                            sprint["id"],
                        )
                    )
                    item["assignee"] = rng.choice(developers)
                    length = (
                        SPRINT_DAYS - 2
                        if sprint["state"] == SprintState.CLOSED
                        else max(1, (self.today - sprint["start"]).days)
                    )
                    finishes = rng.random() < (0.85 if sprint["state"] == SprintState.CLOSED else 0.35)
                    begin_day = rng.randint(0, max(0, length // 2))
                    status = item["status"]
                    if status != ItemStatus.IN_PROGRESS:
                        item["events"].append(
                            (
                                self.aware(sprint["start"] + timedelta(days=begin_day), 11),
                                "status",
                                status,
                                ItemStatus.IN_PROGRESS,
                                sprint["id"],
                            )
                        )
                        item["status"] = ItemStatus.IN_PROGRESS
                    if finishes:
                        done_day = sprint["start"] + timedelta(days=rng.randint(begin_day, length))
                        done_at = self.aware(done_day, 15)
                        if done_at > self.now:
                            done_at = self.now - timedelta(minutes=5)
                        item["events"].append(
                            (
                                done_at - timedelta(hours=3),
                                "status",
                                ItemStatus.IN_PROGRESS,
                                ItemStatus.IN_REVIEW,
                                sprint["id"],
                            )
                        )
                        item["events"].append((done_at, "status", ItemStatus.IN_REVIEW, ItemStatus.DONE, sprint["id"]))
                        item["status"] = ItemStatus.DONE
                        item["done_at"] = done_at
                    elif sprint["state"] == SprintState.CLOSED:
                        carried.append(item)
                    elif rng.random() < 0.3:
                        at = self.now - timedelta(hours=rng.randint(2, 40))
                        item["events"].append(
                            (at, "status", ItemStatus.IN_PROGRESS, ItemStatus.IN_REVIEW, sprint["id"])
                        )
                        item["status"] = ItemStatus.IN_REVIEW
                if sprint["state"] == SprintState.CLOSED:
                    close_at = self.aware(sprint["end"], 17)
                    sprint["carried"] = [i["id"] for i in carried]
                    for item in carried:
                        item["sprint"] = None
                        item["events"].append((close_at, "sprint", str(sprint["id"]), None, sprint["id"]))
                    sprint["closed_at"] = close_at
                    sprint["started_at"] = start_at
                elif sprint["state"] == SprintState.ACTIVE:
                    sprint["started_at"] = start_at
            # The planned sprint gets a few ready items.
            planned = sprints[-1]
            for item in list(pool)[: rng.randint(4, 7)]:
                item["sprint"] = planned["id"]
                item["status"] = ItemStatus.READY
                item["events"].append((self.now - timedelta(days=1), "sprint", None, str(planned["id"]), planned["id"]))
                planned["items"].append(item)
            for item in items:
                if item["status"] == ItemStatus.BACKLOG and item["kind"] != ItemKind.EPIC and rng.random() < 0.25:
                    item["status"] = ItemStatus.READY
            # Epics are done when all their children are.
            plans.append(
                {
                    "project": project,
                    "items": items,
                    "sprints": sprints,
                    "themes": themes,
                    "theme_items": theme_items,
                    "spec": spec,
                }
            )
        return plans

    def make_feedback(
        self, ws: Workspace, customers: list[Customer], plans: list[dict], count: int, link_target: int, users: dict
    ) -> None:
        rng = self.rng
        by_segment: dict[str, list[Customer]] = defaultdict(list)
        for c in customers:
            by_segment[c.segment].append(c)
        plan_for_segment = {p["spec"][5]: p for p in plans[:3]}
        self.feedback_rows: list[Feedback] = []
        self.links: list[tuple[Feedback, dict, str]] = []
        window = 180 if self.scale == 1 else 720
        links_per_feedback = link_target / count
        linked_by_theme: dict[tuple[int, int], Feedback] = {}
        for i in range(count):
            customer = rng.choice(customers)
            plan = plan_for_segment.get(customer.segment) or (plans[0] if rng.random() < 0.6 else plans[2])
            if len(plans) > 3 and rng.random() < 0.5:
                plan = rng.choice(plans[3:])
            t_index = rng.randrange(len(plan["themes"]))
            title, kind, _label, phrases = plan["themes"][t_index]
            phrase = rng.choice(phrases)
            body = f"{rng.choice(texts.OPENERS)}{phrase}.{rng.choice(texts.CLOSERS)}".strip()
            body = body[0].upper() + body[1:]
            channel = rng.choice(CHANNELS_BY_SEGMENT[customer.segment])
            detractor_bias = 0.6 if kind == ItemKind.BUG else 0.35
            nps = csat = ces = None
            if channel in (Channel.SURVEY, Channel.WEB_FORM) or rng.random() < 0.3:
                nps = rng.randint(0, 6) if rng.random() < detractor_bias else rng.randint(7, 10)
            if channel == Channel.SUPPORT:
                csat = rng.randint(1, 2) if rng.random() < detractor_bias else rng.randint(3, 5)
                if rng.random() < 0.5:
                    ces = rng.randint(1, 7)
            received = self.now - timedelta(days=rng.uniform(0, window), hours=rng.uniform(0, 23))
            fb = Feedback(
                id=self.uuid(),
                workspace=ws,
                customer=customer,
                channel=channel,
                title="",
                body=body,
                received_at=received,
                nps=nps,
                csat=csat,
                ces=ces,
                triage=TriageState.NEW,
                source="zendesk" if channel == Channel.SUPPORT else "",
                external_id=f"ZD-{i + 1}" if channel == Channel.SUPPORT else "",
                tags=[plan["project"].key.lower()],
            )
            self.feedback_rows.append(fb)
            targets = plan["theme_items"].get(t_index, [])
            roll = rng.random()
            if targets and roll < 0.62:
                per_linked = max(1.0, links_per_feedback / 0.62)  # 62% of feedback gets linked
                n_links = int(per_linked) + (1 if rng.random() < per_linked - int(per_linked) else 0)
                for item in rng.sample(targets, k=min(n_links, len(targets))):
                    self.links.append((fb, item, phrase))
                fb.triage = TriageState.ACCEPTED
                linked_by_theme.setdefault((id(plan), t_index), fb)
            elif roll < 0.70:
                fb.triage = TriageState.DISMISSED
            elif roll < 0.76:
                original = linked_by_theme.get((id(plan), t_index))
                unlinked_original = next(
                    (f for f in self.feedback_rows[-40:-1] if f.triage == TriageState.NEW and f.body != body), None
                )
                target = unlinked_original if rng.random() < 0.5 and unlinked_original else original
                if target is not None:
                    fb.triage = TriageState.DUPLICATE
                    fb.duplicate_of = target
        self.users = users
