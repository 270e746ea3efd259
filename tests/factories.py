"""factory-boy factories, one per model, committing through the app's session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.extensions import db
from app.models import (
    AllowedDomain,
    ApiToken,
    AuditEntry,
    Badge,
    BadgeGrant,
    BadgeTally,
    CapUsage,
    Challenge,
    ChallengeAward,
    ChallengeDecline,
    ChallengePlacing,
    ChatDestination,
    ClickKind,
    ClickRecord,
    CompanySettings,
    ContentItem,
    ContentStatus,
    ContentTag,
    Employee,
    EmployeeNetwork,
    Event,
    FeedEntry,
    GuidelineVersion,
    Headcount,
    InboundFeed,
    Integration,
    Interest,
    IntranetLink,
    LedgerLine,
    Lesson,
    LessonCompletion,
    LineKind,
    NetworkPolicy,
    Notification,
    NotificationChoice,
    NotificationSettings,
    OutboxMessage,
    ParticipationSpell,
    Pledge,
    Redemption,
    RedemptionState,
    Referral,
    ReferralOutcome,
    ReferralProgramme,
    Reward,
    Role,
    RollupContentDaily,
    RollupContentPeriod,
    RollupEmployeeDaily,
    RollupEmployeePeriod,
    RollupInterestPeriod,
    RollupInterestTag,
    RollupPersonPeriod,
    RollupSharerTag,
    RollupTeamDaily,
    RuleVersion,
    ScoringRule,
    Share,
    SharePolicy,
    ShareTemplate,
    TabooTopic,
    Team,
    TeamFunding,
    WebhookEndpoint,
    utcnow,
)
from scoring.analytics import Period
from scoring.badges import Level
from scoring.challenges import Metric, Mode, ScopeKind
from scoring.chat import Provider as ChatProvider
from scoring.notifications import Channel as NotificationChannel
from scoring.notifications import Digest
from scoring.notifications import Kind as NotificationKind
from scoring.participation import Network, Presence
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.webhooks import Event as WebhookEvent
from scoring.webhooks import new_secret


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class CompanySettingsFactory(BaseFactory):
    class Meta:
        model = CompanySettings

    name = "Example AG"
    time_zone = "Europe/Berlin"
    week_start = 0
    min_group_size = 5


class TeamFactory(BaseFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class InterestFactory(BaseFactory):
    class Meta:
        model = Interest

    name = factory.Sequence(lambda n: f"Interest {n}")


class EmployeeFactory(BaseFactory):
    class Meta:
        model = Employee

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    role = Role.EMPLOYEE
    team = factory.SubFactory(TeamFactory)
    presence = Presence.NAMED
    active = True

    class Params:
        opted_in = factory.Trait(opted_in_at=factory.LazyFunction(utcnow))


class GuidelineVersionFactory(BaseFactory):
    class Meta:
        model = GuidelineVersion

    body = "Sharing is voluntary. Speak as yourself and keep secrets secret."
    contact_name = "Sabine Meyer"
    contact_email = "sabine.meyer@example.com"


class EmployeeNetworkFactory(BaseFactory):
    class Meta:
        model = EmployeeNetwork

    employee = factory.SubFactory(EmployeeFactory)
    network = Network.LINKEDIN
    handle = None
    audience_size = 300


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"Integration {n}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    prefix = "chorus_xxxxx"
    owner = factory.SubFactory(EmployeeFactory, role=Role.ADMIN)


class AuditEntryFactory(BaseFactory):
    class Meta:
        model = AuditEntry

    action = "employee.update"
    actor = factory.SubFactory(EmployeeFactory, role=Role.HR)
    target_type = "employees"
    target_id = 1
    details = factory.LazyFunction(dict)


class SharePolicyFactory(BaseFactory):
    class Meta:
        model = SharePolicy

    disclosure = "#employee"


class NetworkPolicyFactory(BaseFactory):
    class Meta:
        model = NetworkPolicy

    channel = factory.Iterator(list(Channel))
    share_points = True


class AllowedDomainFactory(BaseFactory):
    class Meta:
        model = AllowedDomain

    domain = factory.Sequence(lambda n: f"site{n}.example.com")


class ContentItemFactory(BaseFactory):
    class Meta:
        model = ContentItem

    title = factory.Sequence(lambda n: f"Story {n}")
    summary = "What we built, and why it matters."
    destination_url = factory.Sequence(lambda n: f"https://www.example.com/stories/{n}")
    status = ContentStatus.PUBLISHED
    published_at = factory.LazyFunction(utcnow)

    class Params:
        draft = factory.Trait(status=ContentStatus.DRAFT, published_at=None)


class ContentTagFactory(BaseFactory):
    class Meta:
        model = ContentTag

    content_id = factory.LazyFunction(lambda: ContentItemFactory().id)
    tag = factory.Sequence(lambda n: f"tag{n}")


class ShareTemplateFactory(BaseFactory):
    class Meta:
        model = ShareTemplate

    content_id = factory.LazyFunction(lambda: ContentItemFactory().id)
    channel = Channel.LINKEDIN
    text = "Proud of what my team shipped this week."


class TabooTopicFactory(BaseFactory):
    class Meta:
        model = TabooTopic

    name = factory.Sequence(lambda n: f"Topic {n}")
    explanation = "We do not talk about figures before they are published."
    phrases = factory.LazyFunction(lambda: ["quarterly revenue"])
    patterns = factory.LazyFunction(list)


class InboundFeedFactory(BaseFactory):
    class Meta:
        model = InboundFeed

    name = factory.Sequence(lambda n: f"Feed {n}")
    url = factory.Sequence(lambda n: f"https://news.example.com/feed{n}.xml")


class FeedEntryFactory(BaseFactory):
    class Meta:
        model = FeedEntry

    feed_id = factory.LazyFunction(lambda: InboundFeedFactory().id)
    guid = factory.Sequence(lambda n: f"urn:entry:{n}")


class ShareFactory(BaseFactory):
    class Meta:
        model = Share

    employee = factory.SubFactory(EmployeeFactory, opted_in=True)
    content = factory.SubFactory(ContentItemFactory)
    channel = Channel.LINKEDIN
    text = "Worth a read #employee"
    ref_code = factory.Sequence(lambda n: f"ref{n:08d}")
    team_id = factory.LazyAttribute(lambda share: share.employee.team_id)


class ClickRecordFactory(BaseFactory):
    class Meta:
        model = ClickRecord

    share_id = factory.LazyFunction(lambda: ShareFactory().id)
    visitor = factory.Sequence(lambda n: f"{n:032x}")
    day = factory.LazyFunction(lambda: utcnow().date())
    kind = ClickKind.HUMAN
    occurred_at = factory.LazyFunction(utcnow)


class ReferralProgrammeFactory(BaseFactory):
    class Meta:
        model = ReferralProgramme

    name = factory.Sequence(lambda n: f"Referral programme {n}")
    content_tag = "job"


class IntegrationFactory(BaseFactory):
    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"ATS {n}")
    secret = factory.Sequence(lambda n: f"whsec_{n:040d}")


class ReferralFactory(BaseFactory):
    class Meta:
        model = Referral

    candidate_hash = factory.Sequence(lambda n: f"{n:064x}")
    stage = ReferralStage.APPLIED
    ref_code = factory.Sequence(lambda n: f"ref{n:08d}")
    outcome = ReferralOutcome.UNATTRIBUTED
    occurred_at = factory.LazyFunction(utcnow)


class EventFactory(BaseFactory):
    class Meta:
        model = Event

    kind = EventKind.SHARE
    natural_key = factory.Sequence(lambda n: f"share:{n}")
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    occurred_at = factory.LazyFunction(utcnow)


class ScoringRuleFactory(BaseFactory):
    class Meta:
        model = ScoringRule

    name = factory.Sequence(lambda n: f"Rule {n}")


class RuleVersionFactory(BaseFactory):
    class Meta:
        model = RuleVersion

    rule = factory.SubFactory(ScoringRuleFactory)
    version = 1
    event_kind = EventKind.SHARE
    points = 10
    valid_from = factory.LazyFunction(lambda: utcnow() - timedelta(days=365))


class LedgerLineFactory(BaseFactory):
    class Meta:
        model = LedgerLine

    line_key = factory.Sequence(lambda n: f"adjust:{n}")
    kind = LineKind.ADJUSTMENT
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    points = 5
    occurred_at = factory.LazyFunction(utcnow)
    reason = "Welcome bonus"


class CapUsageFactory(BaseFactory):
    class Meta:
        model = CapUsage

    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    rule_id = factory.LazyFunction(lambda: ScoringRuleFactory().id)
    window_key = "all"
    used = 10


class RewardFactory(BaseFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    cost = 100


_ASKED_OR_CANCELLED = (RedemptionState.PENDING, RedemptionState.CANCELLED)


class RedemptionFactory(BaseFactory):
    """A pending redemption; its points are held from the employee's balance."""

    class Meta:
        model = Redemption

    employee = factory.SubFactory(EmployeeFactory, opted_in=True)
    reward = factory.SubFactory(RewardFactory)
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    points = factory.LazyAttribute(lambda r: r.reward.cost)
    state = RedemptionState.PENDING
    # What the employee did themselves they know of; a decision waits to be mailed.
    notified_state = factory.LazyAttribute(
        lambda r: r.state if r.state in _ASKED_OR_CANCELLED else None
    )


class TeamFundingFactory(BaseFactory):
    """An open funding of a team reward, its target the reward's cost."""

    class Meta:
        model = TeamFunding

    reward = factory.SubFactory(RewardFactory, kind="team")
    team = factory.SubFactory(TeamFactory)
    target = factory.LazyAttribute(lambda f: f.reward.cost)


class PledgeFactory(BaseFactory):
    class Meta:
        model = Pledge

    funding = factory.SubFactory(TeamFundingFactory)
    employee = factory.SubFactory(
        EmployeeFactory, opted_in=True, team=factory.SelfAttribute("..funding.team")
    )
    idempotency_key = factory.Sequence(lambda n: f"pledge-{n}")
    points = 10


class ChallengeFactory(BaseFactory):
    """A company-wide individual challenge on shares that started yesterday and runs a week."""

    class Meta:
        model = Challenge

    title = factory.Sequence(lambda n: f"Challenge {n}")
    scope = ScopeKind.COMPANY
    mode = Mode.INDIVIDUAL
    metric = Metric.SHARES
    starts_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda c: c.starts_at + timedelta(days=7))


class ChallengePlacingFactory(BaseFactory):
    class Meta:
        model = ChallengePlacing

    challenge_id = factory.LazyFunction(lambda: ChallengeFactory().id)
    entrant_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    rank = 1
    points = 3
    score_numerator = 3


class ChallengeAwardFactory(BaseFactory):
    class Meta:
        model = ChallengeAward

    challenge_id = factory.LazyFunction(lambda: ChallengeFactory().id)
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    award_key = factory.LazyAttribute(
        lambda a: f"challenge:{a.challenge_id}:place:{a.employee_id}:points"
    )
    prize_kind = "points"
    value = 50
    place = 1


class ChallengeDeclineFactory(BaseFactory):
    class Meta:
        model = ChallengeDecline

    challenge_id = factory.LazyFunction(lambda: ChallengeFactory().id)
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)


class BadgeFactory(BaseFactory):
    """A count badge on shares with bronze, silver and gold levels."""

    class Meta:
        model = Badge

    slug = factory.Sequence(lambda n: f"sharer-{n}")
    name = factory.Sequence(lambda n: f"Sharer {n}")
    definition = factory.LazyAttribute(
        lambda b: {
            "id": b.slug,
            "name": b.name,
            "kind": "count",
            "measure": "shares",
            "levels": {"bronze": 1, "silver": 5, "gold": 20},
        }
    )


class BadgeGrantFactory(BaseFactory):
    class Meta:
        model = BadgeGrant

    badge = factory.SubFactory(BadgeFactory)
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    level = Level.BRONZE
    period = "all"
    granted_at = factory.LazyFunction(utcnow)


class BadgeTallyFactory(BaseFactory):
    """A tally row as the database's triggers keep them (tests of readers only: the
    triggers write the real ones)."""

    class Meta:
        model = BadgeTally

    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    fact = factory.Sequence(lambda n: f"fact-{n}")
    value = 1


class LessonFactory(BaseFactory):
    """A published lesson with one question whose first choice is right."""

    class Meta:
        model = Lesson

    title = factory.Sequence(lambda n: f"Lesson {n}")
    summary = "Why a profile photo matters"
    body = "A clear photo and a headline in your own words help people trust you."
    questions = factory.LazyFunction(
        lambda: [{"question": "What helps?", "choices": ["A clear photo", "No photo"], "answer": 0}]
    )
    points = 20
    published_at = factory.LazyFunction(utcnow)


class LessonCompletionFactory(BaseFactory):
    class Meta:
        model = LessonCompletion

    lesson_id = factory.LazyFunction(lambda: LessonFactory().id)
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)


class NotificationFactory(BaseFactory):
    """An unread notification in a person's inbox."""

    class Meta:
        model = Notification

    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    kind = NotificationKind.BADGE_EARNED
    key = factory.Sequence(lambda n: f"badge:{n}:once:all")
    title = factory.Sequence(lambda n: f"You earned Badge {n}")
    link = "/badges/mine"


class NotificationChoiceFactory(BaseFactory):
    """Someone who chose no mail about decisions on their redemptions."""

    class Meta:
        model = NotificationChoice

    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    kind = NotificationKind.REDEMPTION_DECIDED
    channel = NotificationChannel.EMAIL
    enabled = False


class NotificationSettingsFactory(BaseFactory):
    """Someone who wants a digest every working day at eight in New York, no quiet hours."""

    class Meta:
        model = NotificationSettings

    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    digest = Digest.DAILY
    digest_hour = 8
    time_zone = "America/New_York"
    quiet_from = None
    quiet_until = None
    weekly_budget = 3


class OutboxMessageFactory(BaseFactory):
    """A mail about a decision on a redemption, waiting to go."""

    class Meta:
        model = OutboxMessage

    key = factory.Sequence(lambda n: f"redemption_decided:test:{n}")
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    kind = NotificationKind.REDEMPTION_DECIDED
    payload = '{"title": "Your reward: Mug", "body": "It was approved.", "link": null}'


class IntranetLinkFactory(BaseFactory):
    """A company-wide intranet link; its secret is ``secret-<n>``, not a real one."""

    class Meta:
        model = IntranetLink

    secret_hash = factory.Sequence(lambda n: hashlib.sha256(f"secret-{n}".encode()).hexdigest())
    prefix = factory.Sequence(lambda n: f"s{n:05d}")
    created_by = factory.SubFactory(EmployeeFactory, role=Role.HR)


class ChatDestinationFactory(BaseFactory):
    """A connected channel; tests give ``url`` a loopback receiver's address."""

    class Meta:
        model = ChatDestination

    provider = ChatProvider.SLACK
    name = factory.Sequence(lambda n: f"#channel-{n}")
    url = factory.Sequence(lambda n: f"https://hooks.slack.com/services/T000/B000/{n:024d}")
    post_content = True


class WebhookEndpointFactory(BaseFactory):
    """A registered endpoint taking every event; tests give ``url`` a loopback
    receiver's address."""

    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"System {n}")
    url = factory.Sequence(lambda n: f"https://hooks.example.com/chorus/{n}")
    events = " ".join(WebhookEvent)
    secret = factory.LazyFunction(lambda: new_secret(secrets.token_bytes(32)))


class RollupContentDailyFactory(BaseFactory):
    """A day's counters of one content item on one channel, for one team (0: none)."""

    class Meta:
        model = RollupContentDaily

    day = factory.Sequence(lambda n: utcnow().date() - timedelta(days=n))
    content_id = factory.LazyFunction(lambda: ContentItemFactory().id)
    channel = Channel.LINKEDIN
    team_id = 0
    shares = 1
    clicks = 3
    clicks_on_shares = 3


class RollupEmployeeDailyFactory(BaseFactory):
    """A day's counters of one person, for one team (0: none)."""

    class Meta:
        model = RollupEmployeeDaily

    day = factory.Sequence(lambda n: utcnow().date() - timedelta(days=n))
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    team_id = 0
    shares = 1
    clicks = 3
    clicks_on_shares = 3
    points = 10


class RollupTeamDailyFactory(BaseFactory):
    """A day's counters of one team (0: none)."""

    class Meta:
        model = RollupTeamDaily

    day = factory.Sequence(lambda n: utcnow().date() - timedelta(days=n))
    team_id = 0
    shares = 4
    clicks = 9
    clicks_on_shares = 9
    points = 40


class RollupContentPeriodFactory(BaseFactory):
    """A month's counters of one content item on one channel."""

    class Meta:
        model = RollupContentPeriod

    period = Period.MONTH
    starts_on = factory.Sequence(lambda n: date(2026 - n // 12, 12 - n % 12, 1))
    content_id = factory.LazyFunction(lambda: ContentItemFactory().id)
    channel = Channel.LINKEDIN
    shares = 5
    clicks = 12
    clicks_on_shares = 14


class RollupEmployeePeriodFactory(BaseFactory):
    """A week's counters of one person."""

    class Meta:
        model = RollupEmployeePeriod

    period = Period.WEEK
    starts_on = factory.Sequence(lambda n: date(2026, 11, 30) - timedelta(weeks=n))
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    team_id = 0
    shares = 2
    clicks = 6
    points = 25


class RollupPersonPeriodFactory(BaseFactory):
    """A week's counters of one person, over their teams."""

    class Meta:
        model = RollupPersonPeriod

    period = Period.WEEK
    starts_on = factory.Sequence(lambda n: date(2026, 11, 30) - timedelta(weeks=n))
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    shares = 2
    clicks = 6
    points = 25


class RollupInterestPeriodFactory(BaseFactory):
    """A month's counters of the people with one interest, three of them active."""

    class Meta:
        model = RollupInterestPeriod

    period = Period.MONTH
    starts_on = factory.Sequence(lambda n: date(2026 - n // 12, 12 - n % 12, 1))
    interest_id = factory.LazyFunction(lambda: InterestFactory().id)
    shares = 7
    clicks = 20
    points = 70
    active = 3


class RollupSharerTagFactory(BaseFactory):
    """A week's shares of one person of items with a tag, and their clicks."""

    class Meta:
        model = RollupSharerTag

    period = Period.WEEK
    starts_on = factory.Sequence(lambda n: date(2026, 11, 30) - timedelta(weeks=n))
    employee_id = factory.LazyFunction(lambda: EmployeeFactory(opted_in=True).id)
    tag = "news"
    shares = 2
    clicks_on_shares = 5


class RollupInterestTagFactory(BaseFactory):
    """A month's shares of items with a tag by the people with one interest."""

    class Meta:
        model = RollupInterestTag

    period = Period.MONTH
    starts_on = factory.Sequence(lambda n: date(2026 - n // 12, 12 - n % 12, 1))
    interest_id = factory.LazyFunction(lambda: InterestFactory().id)
    tag = "news"
    shares = 6
    clicks_on_shares = 15
    sharers = 5


class ParticipationSpellFactory(BaseFactory):
    """A finished time of taking part (an open one is written by the flush hook)."""

    class Meta:
        model = ParticipationSpell

    employee_id = factory.LazyFunction(lambda: EmployeeFactory().id)
    started_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=30))
    ended_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=2))


class HeadcountFactory(BaseFactory):
    """A kept headcount of a finished day, for the whole company (-1)."""

    class Meta:
        model = Headcount

    period = Period.DAY
    starts_on = factory.Sequence(lambda n: utcnow().date() - timedelta(days=n + 1))
    team_id = -1
    people = 12
