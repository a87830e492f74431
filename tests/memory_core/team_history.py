"""A realistic three-month history of one product team, with planted problems, for reflection and quality.

The team ("Orbit", a payments product) stores what it learns from Slack, mail and the CLI. The history has an
incident over five days (INC-2291, the checkout outage), a decision that was later reversed (the event bus:
Kafka, then RabbitMQ), and, in the *planted* copy only, the problems a quality report must find: duplicates
that differ only in punctuation, near-duplicates (light rewordings), stale memories, expired ones,
low-information ones, a contradiction about backup retention, the reversal left unlinked, and questions
nobody can answer. The *clean* copy is the same history without them (the reversal marks what it supersedes).

Times are relative (`day` = days before now) because the core judges staleness and expiry against the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

import numpy as np

from memory_core import Actor, Embedder, Importance, MemoryCore, MemoryDraft, MemoryPatch, Source

__all__ = [
    "ADMIN",
    "ANSWERED_QUESTIONS",
    "CORE",
    "INCIDENT_KEYS",
    "INCIDENT_RELATED_KEYS",
    "PLANTED",
    "UNANSWERED_QUESTIONS",
    "CachedEmbedder",
    "Entry",
    "clean_history",
    "link_supersedes",
    "load_history",
    "planted_history",
]


@dataclass(frozen=True)
class Entry:
    key: str
    day: float
    text: str
    kind: str = "note"
    tags: tuple[str, ...] = ()
    author: str = "alice"
    source: Source = Source.SLACK
    importance: Importance = Importance.NORMAL
    expires_in: float | None = None  # days after now; negative: already expired
    supersedes: str | None = None
    plant: str | None = None  # the quality problem this entry plants (planted copy only)
    twin: str | None = None  # the entry it duplicates or contradicts


def _e(key: str, day: float, text: str, **fields: object) -> Entry:
    return Entry(key, day, text, **fields)  # type: ignore[arg-type]


_INC = {"kind": "incident", "tags": ("incident", "checkout")}
_EMAIL = {"kind": "email", "source": Source.EMAIL}

CORE: tuple[Entry, ...] = (
    # --- INC-2291, the checkout outage, over five days --------------------------------------------
    _e(
        "inc-page",
        21.0,
        "Paged at 09:42 UTC by the checkout success-rate alert (below 80%); joined the incident "
        "bridge in #inc-2291.",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-detect",
        20.99,
        "Checkout is failing for about 30% of card payments since 09:40 UTC; payments-api returns "
        "503 and the status page is updated. Declaring incident INC-2291, carol is incident commander.",
        author="carol",
        importance=Importance.CRITICAL,
        **_INC,
    ),
    _e(
        "inc-dbpool",
        20.95,
        "INC-2291: payments-api pods are exhausting their Postgres connection pool; pgbouncer shows "
        "400 waiting clients after this morning's pgbouncer 1.22 upgrade.",
        author="bob",
        **_INC,
    ),
    _e(
        "inc-rollback",
        20.9,
        "INC-2291 mitigation: rolled pgbouncer back to 1.21 and restarted payments-api; checkout "
        "error rate dropped from 30% to 4% by 10:55 UTC.",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-comms",
        20.85,
        "Customer comms for INC-2291: support sent the outage notice to the 40 merchants who opened "
        "tickets; double-charged orders will be handled case by case.",
        author="grace",
        **_INC,
    ),
    _e(
        "inc-residual",
        20.5,
        "INC-2291 still open: a residual 4% of checkout requests time out, only for merchants on "
        "the EU cluster; suspect read replica lag in eu-west-1.",
        author="bob",
        **_INC,
    ),
    _e(
        "inc-replica",
        19.9,
        "INC-2291 day 2: the eu-west-1 read replica was 9 minutes behind because autovacuum was "
        "blocked by a long-running analytics query; killed the query and replica lag is back under 1 second.",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-resolved",
        19.8,
        "INC-2291 resolved at 14:20 UTC on day two: checkout success rate is back to 99.6% on "
        "both clusters; monitoring stays on high alert for 48 hours.",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-doublecharge",
        19.0,
        "After INC-2291, 112 orders were charged twice because clients retried on 503; "
        "finance is refunding them and support is emailing each merchant.",
        author="grace",
        **_INC,
    ),
    _e(
        "inc-root",
        18.0,
        "Root cause of INC-2291: pgbouncer 1.22 changed the default of server_reset_query_always, so "
        "prepared statements leaked across sessions and the pool filled up.",
        author="bob",
        **_INC,
    ),
    _e(
        "inc-postmortem",
        17.0,
        "Postmortem for INC-2291 held on Thursday: blameless, 2h 40m of degraded checkout in "
        "total, 112 double charges, no data loss.",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-action-idem",
        16.9,
        "INC-2291 action item: add idempotency keys to the checkout retry path so a client "
        "retry can never charge twice (owner bob, due end of sprint).",
        author="bob",
        **_INC,
    ),
    _e(
        "inc-action-canary",
        16.88,
        "INC-2291 action item: pgbouncer and other connection-layer upgrades go through a "
        "canary on one payments-api pod first (owner carol).",
        author="carol",
        **_INC,
    ),
    _e(
        "inc-action-alert",
        16.8,
        "INC-2291 action item: alert when replica lag in any region exceeds 60 seconds, and "
        "keep analytics queries off the checkout read replicas.",
        author="farid",
        **_INC,
    ),
    _e(
        "inc-report",
        16.5,
        "Published the public incident report for the INC-2291 checkout outage on the status page "
        "and the blog; sales has an FAQ for enterprise customers.",
        author="erin",
        **_INC,
    ),
    # --- the event bus: Kafka, later reversed to RabbitMQ -----------------------------------------
    _e(
        "eb-kafka",
        70.0,
        "Decision: the new event bus will be Kafka on Amazon MSK, because the ledger needs replay "
        "of order events; RabbitMQ was considered and rejected.",
        kind="decision",
        tags=("architecture", "events"),
        importance=Importance.HIGH,
    ),
    _e(
        "eb-naming",
        62.0,
        "Event topic names follow <domain>.<entity>.<verb>, for example orders.order.created; "
        "schemas live in the events-schemas repo.",
        author="bob",
        tags=("events",),
    ),
    _e(
        "eb-msk-cost",
        35.0,
        "The MSK bill for the event bus pilot came in at 2,300 dollars a month, four times the "
        "estimate, mostly for broker instances we barely use.",
        tags=("events", "cost"),
    ),
    _e(
        "eb-rabbit",
        28.0,
        "Decision: we drop Kafka and move the event bus to RabbitMQ with quorum queues; replay for "
        "the ledger will come from the outbox table instead. Kafka's cost and ops load were not worth it.",
        kind="decision",
        tags=("architecture", "events"),
        importance=Importance.HIGH,
    ),
    _e(
        "eb-outbox",
        20.0,
        "The transactional outbox table in the orders database is now the source of replay; a relay "
        "process publishes its rows every second.",
        author="bob",
        tags=("events",),
    ),
    _e(
        "eb-dlq",
        13.0,
        "Messages that fail five times on RabbitMQ go to a dead-letter queue; the on-call engineer "
        "checks it every morning.",
        author="bob",
        tags=("events", "oncall"),
    ),
    # --- deploys and releases ---------------------------------------------------------------------
    _e(
        "dep-days",
        85.0,
        "Production deploys happen Tuesday to Thursday before 16:00 CET; no deploys on Fridays or "
        "the day before a public holiday.",
        kind="decision",
        tags=("deploy",),
    ),
    _e(
        "dep-pipeline",
        80.0,
        "The deploy pipeline is GitHub Actions building images into ECR, then Argo CD syncs the "
        "prod cluster from the gitops repo.",
        author="bob",
        tags=("deploy",),
    ),
    _e(
        "dep-rollback",
        66.0,
        "To roll back a service, revert its image tag in the gitops repo; Argo CD picks it up in "
        "about two minutes. Never kubectl edit in prod.",
        author="carol",
        tags=("deploy",),
    ),
    _e(
        "dep-flags",
        58.0,
        "Feature flags live in Unleash; every flag gets an owner and a removal ticket when it is created.",
        author="dan",
        tags=("deploy",),
    ),
    _e(
        "dep-migrations",
        52.0,
        "Database migrations must be backwards compatible for one release: add columns first, "
        "backfill, and drop old columns only in the next release.",
        author="bob",
        tags=("deploy", "database"),
    ),
    _e(
        "dep-staging",
        75.0,
        "Staging is reset from anonymised production data every Sunday at 03:00 UTC; anything you "
        "created there during the week is gone.",
        author="carol",
        tags=("staging",),
    ),
    _e(
        "dep-notes",
        40.0,
        "Release notes are drafted by the PM in Notion every second Wednesday and posted to "
        "#announcements after the mobile release.",
        author="erin",
        tags=("release",),
    ),
    _e(
        "dep-preview",
        33.0,
        "Every pull request on the web app gets a preview environment at "
        "pr-<number>.preview.orbit.dev, deleted when the PR closes.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "dep-hotfix",
        24.0,
        "Hotfixes branch from the release tag, need one reviewer instead of two, and must be "
        "merged back to main the same day.",
        tags=("release",),
    ),
    # --- on-call and operations -------------------------------------------------------------------
    _e(
        "oc-rotation",
        88.0,
        "On-call rotation is weekly, Monday 10:00 to Monday 10:00, one primary and one "
        "secondary, managed in Opsgenie.",
        author="carol",
        tags=("oncall",),
    ),
    _e(
        "oc-swap",
        60.0,
        "To swap an on-call week, agree it with your swap partner and update the Opsgenie schedule "
        "yourself; post the swap in #oncall.",
        author="carol",
        tags=("oncall",),
    ),
    _e(
        "oc-comp",
        55.0,
        "On-call weeks are compensated with one extra day off, to be taken within the following month.",
        tags=("oncall", "team"),
    ),
    _e(
        "oc-runbooks",
        72.0,
        "Runbooks live in the ops-runbooks repo, one markdown file per alert, linked from the "
        "alert description.",
        author="carol",
        tags=("oncall",),
    ),
    _e(
        "oc-sev",
        68.0,
        "Severity levels: SEV1 customer-facing outage, SEV2 degraded service for some customers, "
        "SEV3 internal only. SEV1 and SEV2 need an incident commander.",
        author="carol",
        tags=("oncall",),
    ),
    _e(
        "oc-grafana",
        50.0,
        "The checkout dashboard in Grafana shows success rate, p95 latency and error budget per "
        "payment provider; it is the first thing to open on a page.",
        author="farid",
        tags=("oncall",),
    ),
    _e(
        "oc-logs",
        47.0,
        "Application logs go to Loki with 14 days retention; query them from Grafana Explore, not "
        "from kubectl logs.",
        author="bob",
        tags=("ops",),
    ),
    _e(
        "oc-backups",
        83.0,
        "Backups of the main Postgres cluster run nightly at 02:00 UTC and are kept for 35 days; "
        "restores are tested on the first Monday of each month.",
        author="carol",
        tags=("ops", "database"),
    ),
    _e(
        "oc-restore",
        30.0,
        "Monthly restore test passed: the orders database came back on a scratch instance in 38 "
        "minutes from last night's snapshot.",
        author="carol",
        tags=("ops", "database"),
    ),
    _e(
        "oc-certs",
        64.0,
        "TLS certificates are issued by cert-manager with Let's Encrypt and renew automatically 30 "
        "days before expiry.",
        author="carol",
        tags=("ops",),
    ),
    _e(
        "oc-status",
        43.0,
        "The public status page is status.orbit.dev on Statuspage; only the incident commander or "
        "the support lead may post updates.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "oc-noise",
        26.0,
        "Removed eleven noisy alerts that paged at night without needing action; the rule now is "
        "that every page must be actionable.",
        author="carol",
        tags=("oncall",),
    ),
    _e(
        "oc-k8s",
        37.0,
        "EKS upgrade to 1.31 is done in both regions; the next one is announced a week ahead in #ops.",
        author="carol",
        tags=("ops",),
    ),
    _e(
        "oc-aws-bill",
        23.0,
        "AWS bill for October: 31,000 dollars, of which 40% is RDS; reserved instances are being "
        "bought for the stable databases.",
        author="carol",
        tags=("ops", "cost"),
    ),
    _e(
        "oc-dr",
        14.0,
        "Disaster recovery drill: failing the EU region over to the warm standby took 47 minutes; the "
        "target is 30.",
        author="carol",
        tags=("ops",),
    ),
    # --- INC-2240, an older and unrelated incident ------------------------------------------------
    _e(
        "old-inc-1",
        60.0,
        "INC-2240: the merchant dashboard was unreachable for 25 minutes because the Route 53 "
        "health check pointed at a decommissioned load balancer.",
        author="carol",
        kind="incident",
        tags=("incident", "dashboard"),
    ),
    _e(
        "old-inc-2",
        59.9,
        "INC-2240 fixed: the DNS health check now targets the new ALB; Terraform drift detection "
        "would have caught it, so carol enables it for the DNS module.",
        author="carol",
        kind="incident",
        tags=("incident", "dashboard"),
    ),
    _e(
        "old-inc-3",
        58.5,
        "INC-2240 postmortem: SEV2, dashboard only, payments were not affected; action item is a "
        "weekly terraform plan in CI.",
        author="carol",
        kind="incident",
        tags=("incident", "dashboard"),
    ),
    # --- architecture -----------------------------------------------------------------------------
    _e(
        "ar-services",
        90.0,
        "Orbit runs twelve services; the core ones are checkout-web, payments-api, orders, "
        "ledger and notifications, all in Go except checkout-web.",
        tags=("architecture",),
    ),
    _e(
        "ar-k8s",
        87.0,
        "Everything runs on one EKS cluster per region (eu-west-1 and us-east-1) with Karpenter for "
        "node autoscaling.",
        author="carol",
        tags=("architecture", "ops"),
    ),
    _e(
        "ar-db",
        86.0,
        "Each service owns its own Postgres database; no service reads another service's tables, it "
        "calls the API or consumes events.",
        author="bob",
        tags=("architecture", "database"),
    ),
    _e(
        "ar-ledger",
        78.0,
        "The ledger is append-only: corrections are new entries that reference the entry they "
        "correct, never updates.",
        author="bob",
        tags=("architecture", "ledger"),
    ),
    _e(
        "ar-money",
        74.0,
        "Money amounts are stored as integer minor units with an ISO 4217 currency code; never floats.",
        author="bob",
        tags=("architecture",),
    ),
    _e(
        "ar-api-style",
        69.0,
        "Public APIs are REST with JSON, versioned in the URL path (/v1/, /v2/); internal calls use gRPC.",
        tags=("architecture", "api"),
    ),
    _e(
        "ar-rate-limit",
        61.0,
        "The public API is rate-limited to 100 requests per second per merchant key, enforced "
        "at the Envoy gateway.",
        author="bob",
        tags=("api",),
    ),
    _e(
        "ar-cache",
        57.0,
        "Redis is used only as a cache and for rate-limit counters; nothing in Redis may be the "
        "only copy of business data.",
        author="bob",
        tags=("architecture",),
    ),
    _e(
        "ar-search",
        54.0,
        "Merchant search in the dashboard uses OpenSearch, fed from the orders events; reindexing "
        "takes about three hours.",
        author="farid",
        tags=("architecture",),
    ),
    _e(
        "ar-notify",
        48.0,
        "The notifications service sends email through Postmark and SMS through Twilio; templates "
        "are in the notifications repo.",
        author="dan",
        tags=("architecture",),
    ),
    _e(
        "ar-webhooks",
        44.0,
        "Merchant webhooks are retried with exponential backoff for up to 72 hours, then marked "
        "failed in the dashboard.",
        author="bob",
        tags=("api",),
    ),
    _e(
        "ar-pci",
        82.0,
        "Card data never touches our servers: checkout uses the payment provider's hosted fields, "
        "which keeps us in PCI SAQ A scope.",
        tags=("security", "checkout"),
    ),
    _e(
        "ar-providers",
        76.0,
        "Card payments are routed to Adyen by default and to Stripe as the fallback when "
        "Adyen's error rate passes 5%.",
        author="erin",
        tags=("payments",),
    ),
    _e(
        "ar-utc",
        63.0,
        "All timestamps are stored in UTC; the dashboard converts to the merchant's time zone only "
        "when displaying.",
        author="bob",
        tags=("architecture",),
    ),
    _e(
        "ar-grpc",
        41.0,
        "Every gRPC call sets a deadline; the default in our Go client library is 2 seconds and must "
        "be overridden explicitly.",
        author="bob",
        tags=("architecture",),
    ),
    _e(
        "ar-secrets",
        71.0,
        "Secrets are stored in AWS Secrets Manager and injected by External Secrets Operator; "
        "never put them in the gitops repo.",
        author="carol",
        tags=("security",),
    ),
    _e(
        "ar-regions",
        38.0,
        "Merchants are pinned to a home region (EU or US) at signup; their data never leaves that region.",
        tags=("architecture", "compliance"),
    ),
    _e(
        "ar-recon",
        29.0,
        "The ledger is reconciled against Adyen settlement reports every night; mismatches open a "
        "ticket for finance.",
        author="farid",
        tags=("ledger",),
    ),
    _e(
        "ar-payouts",
        34.0,
        "Payouts are batched daily at 06:00 UTC per region; the payouts service writes them to "
        "the ledger first and then calls the bank API.",
        author="bob",
        tags=("payouts",),
    ),
    _e(
        "ar-bank",
        31.0,
        "Bank transfers for EU payouts go through SEPA via Modulr; US payouts use ACH through Stripe "
        "Treasury.",
        author="bob",
        tags=("payouts",),
    ),
    _e(
        "ar-fraud",
        26.0,
        "Fraud scoring uses Adyen RevenueProtect, plus our own rule that blocks a device after more "
        "than 5 failed cards in an hour.",
        author="farid",
        tags=("payments",),
    ),
    _e(
        "ar-pdf",
        19.0,
        "Invoice PDFs are rendered with Gotenberg from HTML templates; the new template fixes the "
        "confusing layout merchants complained about.",
        author="dan",
        tags=("invoices",),
    ),
    # --- onboarding, tooling, access --------------------------------------------------------------
    _e(
        "on-laptop",
        89.0,
        "New engineers get a MacBook Pro from IT on day one; ask IT two weeks before the start date.",
        tags=("onboarding",),
    ),
    _e(
        "on-accounts",
        88.5,
        "Day one accounts: Google Workspace, Slack, GitHub org, Opsgenie and AWS SSO; Linear and "
        "Notion come with the Google login.",
        tags=("onboarding",),
    ),
    _e(
        "on-buddy",
        84.0,
        "Every new hire gets an onboarding buddy from another team for the first month.",
        tags=("onboarding",),
    ),
    _e(
        "on-aws",
        73.0,
        "AWS access is through SSO with three roles: read-only for everyone, developer for the owning "
        "team, and admin only with a ticket.",
        author="carol",
        tags=("access",),
    ),
    _e(
        "on-localdev",
        67.0,
        "Local development uses Tilt against a kind cluster; make dev starts everything with "
        "seeded test merchants.",
        author="bob",
        tags=("tooling",),
    ),
    _e(
        "on-first-week",
        59.0,
        "In the first week a new engineer ships a small change to production with their buddy, end to end.",
        tags=("onboarding",),
    ),
    _e(
        "on-docs",
        53.0,
        "Engineering docs live in Notion under Engineering > Handbook; architecture decision records "
        "are in the adr folder of the platform repo.",
        author="erin",
        tags=("docs",),
    ),
    _e(
        "on-vpn",
        79.0,
        "The office VPN is WireGuard; request a config with the vpn form in #it-help and it is "
        "emailed to you.",
        author="carol",
        tags=("access",),
    ),
    _e(
        "on-linear",
        56.0,
        "Work is tracked in Linear; each team runs two-week cycles and bugs get the Bug label plus "
        "a severity.",
        author="erin",
        tags=("process",),
    ),
    _e(
        "on-codeowners",
        51.0,
        "Pull requests need two approvals, one from a CODEOWNERS member of the touched directory.",
        tags=("process",),
    ),
    _e(
        "on-ci",
        46.0,
        "CI runs unit tests, golangci-lint and a 10-minute integration suite against Testcontainers; "
        "flaky tests are quarantined, not retried.",
        author="bob",
        tags=("tooling",),
    ),
    _e(
        "on-editor",
        39.0,
        "Shared editor settings: gofumpt for Go, Prettier and ESLint for TypeScript; the "
        "pre-commit config runs them.",
        author="dan",
        tags=("tooling",),
    ),
    _e(
        "on-1password",
        34.5,
        "For local secrets use the 1Password CLI with the Engineering vault; op run injects them "
        "into make dev.",
        author="carol",
        tags=("tooling", "security"),
    ),
    _e(
        "on-sandbox",
        27.0,
        "Adyen and Stripe test accounts for development are shared; their logins are in 1Password "
        "under Payments Sandbox.",
        author="bob",
        tags=("payments",),
    ),
    _e(
        "on-glossary",
        23.5,
        "Glossary: a merchant is our customer, a shopper is their customer, a payout is money we "
        "send to a merchant.",
        author="erin",
        tags=("docs",),
    ),
    # --- customers and support --------------------------------------------------------------------
    _e(
        "cu-hours",
        86.5,
        "Support hours are 08:00 to 20:00 CET on weekdays; SEV1 issues for enterprise plans are "
        "covered 24/7.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "cu-response",
        81.0,
        "First response target: 1 hour for enterprise tickets, 8 business hours for everyone else.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "cu-zendesk",
        77.0,
        "Support runs on Zendesk; engineering gets tickets through the Escalated view, never by "
        "direct message.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "cu-acme",
        65.0,
        "Acme Outdoor, our largest merchant, renews in January; they want multi-currency payouts "
        "before they sign again.",
        author="erin",
        tags=("customers",),
    ),
    _e(
        "cu-bluebird",
        49.0,
        "Bluebird Coffee asked for a Klarna integration; it is on the list for the next quarter's "
        "roadmap discussion.",
        author="erin",
        tags=("customers",),
        **_EMAIL,
    ),
    _e(
        "cu-refunds",
        62.0,
        "Refunds above 1,000 euros need approval from finance (Maria) before support can issue them.",
        author="grace",
        tags=("support", "finance"),
    ),
    _e(
        "cu-chargebacks",
        42.0,
        "Chargeback notifications from Adyen land in #payments-disputes; merchants have 7 days "
        "to upload evidence.",
        author="grace",
        tags=("support", "payments"),
    ),
    _e(
        "cu-complaints",
        36.0,
        "Top three merchant complaints this quarter: slow payout reports, no Apple Pay on web, "
        "confusing invoice PDFs.",
        author="erin",
        tags=("customers",),
    ),
    _e(
        "cu-churn",
        31.5,
        "Churned merchants in Q3: 14 out of 620, mostly small shops moving to Shopify Payments.",
        author="farid",
        tags=("customers", "data"),
    ),
    _e(
        "cu-nps",
        25.0,
        "NPS survey result for October: 41, up from 33 in July; detractors mention payout timing.",
        author="erin",
        tags=("customers",),
    ),
    _e(
        "cu-northwind",
        18.0,
        "Call with Northwind Traders: they need SAML single sign-on for the merchant dashboard "
        "and a 99.95% uptime SLA in the contract.",
        author="erin",
        kind="meeting",
        tags=("customers",),
    ),
    _e(
        "cu-webhook-docs",
        14.5,
        "Merchants keep asking how to test webhooks; support wants a webhook tester page in "
        "the developer docs.",
        author="grace",
        tags=("support", "docs"),
    ),
    _e(
        "cu-escalation",
        12.0,
        "Escalation path: support lead, then the on-call engineer, then the engineering "
        "manager; never page the CTO directly.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "cu-i18n",
        9.5,
        "The checkout is translated into 11 languages with Lokalise; new strings are sent for "
        "translation every Friday.",
        author="dan",
        tags=("checkout",),
    ),
    _e(
        "cu-macros",
        44.5,
        "Support macros for the top 20 questions are in Zendesk; update the macro when the product "
        "changes, not the answer by hand.",
        author="grace",
        tags=("support",),
    ),
    _e(
        "cu-holidays",
        11.0,
        "Support over the holidays: two people per day from December 24 to January 1, rota in Personio.",
        author="grace",
        tags=("support",),
    ),
    # --- planning and product ---------------------------------------------------------------------
    _e(
        "pl-okrs",
        88.2,
        "Q4 OKRs: cut checkout p95 latency below 400 ms, launch Apple Pay on web, and get payout "
        "reports under 5 seconds.",
        author="erin",
        tags=("planning",),
    ),
    _e(
        "pl-roadmap",
        74.5,
        "Roadmap order for Q4: Apple Pay on web first, then multi-currency payouts, then SAML SSO "
        "for enterprise.",
        author="erin",
        tags=("planning",),
    ),
    _e(
        "pl-offsite",
        70.5,
        "The team offsite is in Porto, two days, with the first day on architecture and the "
        "second on planning.",
        tags=("team",),
    ),
    _e(
        "pl-retro",
        63.5,
        "Sprint retro: reviews take too long; we agreed to keep pull requests under 400 lines and to "
        "review within one working day.",
        kind="meeting",
        tags=("process",),
    ),
    _e(
        "pl-applepay-spec",
        60.5,
        "Apple Pay on web needs domain verification per merchant; we host the verification "
        "file under /.well-known for each custom domain.",
        author="dan",
        tags=("applepay",),
    ),
    _e(
        "pl-applepay-live",
        15.0,
        "Apple Pay on web is live for all merchants on the EU cluster; the US follows next "
        "week after the domain verification fix.",
        author="dan",
        tags=("applepay",),
    ),
    _e(
        "pl-payout-reports",
        37.5,
        "Payout reports were slow because they scanned the whole ledger; a materialised "
        "view per merchant brings them to 1.8 seconds.",
        author="farid",
        tags=("payouts",),
    ),
    _e(
        "pl-multicurrency",
        32.0,
        "Multi-currency payouts: merchants choose a payout currency per bank account; FX is "
        "done by Adyen at settlement.",
        author="erin",
        tags=("payouts",),
    ),
    _e(
        "pl-hiring",
        57.5,
        "We are hiring two backend engineers and one SRE this quarter; interview loops run on "
        "Tuesdays and Thursdays.",
        tags=("hiring",),
    ),
    _e(
        "pl-interview",
        52.5,
        "Interview loop: 30-minute screen, a take-home exercise capped at 3 hours, then system "
        "design and a pairing session.",
        tags=("hiring",),
    ),
    _e(
        "pl-demo",
        44.2,
        "Demo day is the last Friday of every month at 15:00; each team shows what shipped, five "
        "minutes each.",
        author="erin",
        tags=("team",),
    ),
    _e(
        "pl-cost-retro",
        34.8,
        "Retro after the MSK bill: we will estimate cloud cost before adopting any new managed service.",
        kind="meeting",
        tags=("process", "cost"),
    ),
    _e(
        "pl-sso",
        10.0,
        "Decision: SAML SSO for the merchant dashboard will use WorkOS so we do not build SAML "
        "ourselves; Northwind is the pilot.",
        author="erin",
        kind="decision",
        tags=("sso",),
    ),
    _e(
        "pl-latency",
        13.5,
        "Checkout p95 latency is down to 430 ms after adding a Redis cache for merchant "
        "configuration; the OKR target is 400 ms.",
        author="farid",
        tags=("performance",),
    ),
    _e(
        "pl-q1",
        5.0,
        "Q1 planning starts next week; each team brings its top three bets and a rough cost estimate.",
        author="erin",
        tags=("planning",),
    ),
    _e(
        "pl-1on1",
        66.5,
        "One-on-ones are every two weeks, 30 minutes, and the agenda belongs to the report, not the manager.",
        tags=("team",),
    ),
    _e(
        "pl-pricing",
        55.5,
        "Pricing is 1.4% plus 25 cents per card payment in the EU, with custom pricing above 1 "
        "million euros a year.",
        author="erin",
        tags=("pricing",),
    ),
    _e(
        "pl-beta",
        27.5,
        "The payout currency beta has 12 merchants; feedback goes to the #beta-payouts channel.",
        author="erin",
        tags=("payouts",),
    ),
    _e(
        "pl-persona",
        49.5,
        "Our main persona is a shop owner with 2 to 20 employees who does bookkeeping on Sunday evenings.",
        author="erin",
        tags=("product",),
    ),
    # --- frontend and mobile ----------------------------------------------------------------------
    _e(
        "fe-stack",
        85.5,
        "The merchant dashboard is Next.js with TypeScript and our own component library, orbit-ui, "
        "published to the private npm registry.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-bundle",
        61.5,
        "The hosted checkout page must stay under 120 KB of JavaScript; the bundle size check fails "
        "CI above that.",
        author="dan",
        tags=("frontend", "checkout"),
    ),
    _e(
        "fe-a11y",
        54.5,
        "Accessibility: the checkout must pass WCAG 2.1 AA; we run axe in CI and a manual "
        "screen-reader test before each release.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-browsers",
        47.5,
        "Supported browsers: the last two versions of Chrome, Firefox, Safari and Edge; no "
        "Internet Explorer.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-storybook",
        38.5,
        "Storybook for orbit-ui is published at ui.orbit.dev on every merge to main.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-dark",
        20.5,
        "Dark mode for the merchant dashboard shipped behind the dark-mode flag; it is on for "
        "internal users only.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-locales",
        64.5,
        "Dashboard strings exist in English, German, French, Spanish and Dutch; numbers and dates "
        "follow the browser locale.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "fe-lighthouse",
        24.5,
        "Lighthouse score of the checkout page is 96 on mobile after lazy-loading the card brand logos.",
        author="dan",
        tags=("frontend", "performance"),
    ),
    _e(
        "fe-sentry",
        12.5,
        "Frontend errors are reported to Sentry with the merchant id but never the shopper's data.",
        author="dan",
        tags=("frontend",),
    ),
    _e(
        "mo-app",
        80.5,
        "The merchant mobile app is React Native with Expo; it shows sales and payouts and lets "
        "merchants refund from the phone.",
        author="hiro",
        tags=("mobile",),
    ),
    _e(
        "mo-release",
        58.5,
        "Mobile releases go out every second Wednesday through TestFlight and the Play Console "
        "internal track first.",
        author="hiro",
        tags=("mobile", "release"),
    ),
    _e(
        "mo-crash",
        30.5,
        "Mobile crash rate after 3.4.0 went up to 1.2% because of a date parsing bug on Android 10; "
        "3.4.1 fixes it.",
        author="hiro",
        tags=("mobile",),
    ),
    _e(
        "mo-push",
        19.5,
        "Push notifications for new payouts use Expo push; merchants can switch them off per device.",
        author="hiro",
        tags=("mobile",),
    ),
    _e(
        "mo-min",
        8.0,
        "Minimum supported app version is now 3.2; older versions get a forced update screen.",
        author="hiro",
        tags=("mobile",),
    ),
    _e(
        "mo-offline",
        42.5,
        "The mobile app caches the last 30 days of sales so it works offline in shops with bad reception.",
        author="hiro",
        tags=("mobile",),
    ),
    # --- data and analytics -----------------------------------------------------------------------
    _e(
        "da-warehouse",
        84.5,
        "The data warehouse is BigQuery, loaded by Airbyte from the service databases every hour.",
        author="farid",
        tags=("data",),
    ),
    _e(
        "da-dbt",
        76.5,
        "Transformations are dbt models in the analytics repo; every model needs a description and at "
        "least one test.",
        author="farid",
        tags=("data",),
    ),
    _e(
        "da-metabase",
        68.5,
        "Business dashboards are in Metabase; ask farid for a new collection rather than "
        "creating ad-hoc ones.",
        author="farid",
        tags=("data",),
    ),
    _e(
        "da-pii",
        59.5,
        "PII is hashed before it reaches BigQuery; shopper emails and card BINs are never loaded in clear.",
        author="farid",
        tags=("data", "security"),
    ),
    _e(
        "da-gmv",
        41.5,
        "GMV in October was 48 million euros across 620 merchants, 9% up on September.",
        author="farid",
        tags=("data",),
    ),
    _e(
        "da-attribution",
        28.5,
        "Signup attribution now comes from UTM parameters stored at signup; the old "
        "cookie-based model is gone.",
        author="farid",
        tags=("data",),
    ),
    _e(
        "da-replica",
        15.5,
        "Decision: analytics queries never run against production read replicas again; Airbyte "
        "reads from a dedicated analytics replica.",
        author="farid",
        kind="decision",
        tags=("data", "database"),
    ),
    _e(
        "da-bq-cost",
        11.5,
        "BigQuery spend dropped to 1,900 dollars a month after partitioning the events tables by day.",
        author="farid",
        tags=("data", "cost"),
    ),
    _e(
        "da-experiments",
        22.0,
        "A/B tests run through GrowthBook; an experiment needs a pre-registered metric and "
        "two weeks minimum.",
        author="farid",
        tags=("data", "product"),
    ),
    # --- security ---------------------------------------------------------------------------------
    _e(
        "se-2fa",
        87.5,
        "Two-factor authentication is mandatory for GitHub, Google and AWS; hardware keys are "
        "provided on request.",
        author="carol",
        tags=("security",),
    ),
    _e(
        "se-pentest",
        50.5,
        "The yearly penetration test by an external firm is booked for the second half of "
        "January; scope is the public API and the dashboard.",
        tags=("security",),
    ),
    _e(
        "se-dependabot",
        45.0,
        "Dependabot pull requests for security fixes must be merged within 7 days; others are "
        "batched weekly.",
        author="bob",
        tags=("security",),
    ),
    _e(
        "se-offboarding",
        40.5,
        "Offboarding: remove the person from Google Workspace first, which cascades to Slack, "
        "Linear and Notion; AWS SSO and GitHub by hand.",
        tags=("security", "process"),
    ),
    _e(
        "se-log-pii",
        33.5,
        "Never log full card numbers, CVC or shopper emails; the log scrubber masks them but it is "
        "the last line of defence.",
        author="bob",
        tags=("security",),
    ),
    _e(
        "se-soc2",
        21.5,
        "The SOC 2 Type II audit window started this month; evidence collection is automated with Vanta.",
        tags=("security", "compliance"),
    ),
    _e(
        "se-phishing",
        7.0,
        "Phishing test last week: 3 people clicked; report suspicious mail with the Report button in Gmail.",
        author="carol",
        tags=("security",),
    ),
    _e(
        "se-rotation",
        52.2,
        "Database credentials are rotated every 90 days automatically by Secrets Manager.",
        author="carol",
        tags=("security", "database"),
    ),
    # --- team and office --------------------------------------------------------------------------
    _e(
        "tm-standup",
        89.5,
        "Daily standup is at 09:30 CET in the #standup huddle, 15 minutes, async on Fridays.",
        tags=("team",),
    ),
    _e(
        "tm-office",
        82.5,
        "The office is open Tuesday to Thursday; the rest of the week is remote by default.",
        tags=("team",),
    ),
    _e(
        "tm-lunch",
        71.5,
        "Team lunch is on the first Thursday of the month, paid by the company, at the Italian "
        "place near the office.",
        author="grace",
        tags=("team",),
    ),
    _e(
        "tm-holidays",
        48.5,
        "Holiday requests go into Personio at least two weeks ahead; tell your team in #team-orbit as well.",
        tags=("team",),
    ),
    _e(
        "tm-learning",
        42.2,
        "Each engineer has a yearly learning budget of 1,500 euros for books, courses or a conference.",
        tags=("team",),
    ),
    _e(
        "tm-welcome",
        20.2,
        "Welcome Ines, who joins the payments team as a backend engineer; her buddy is bob.",
        tags=("team",),
    ),
    _e(
        "tm-leave",
        16.2,
        "bob is on parental leave for four weeks from the 1st; carol covers the ledger reviews.",
        tags=("team",),
    ),
    _e(
        "tm-espresso",
        6.0,
        "The new espresso machine on the second floor needs its water tank refilled by whoever empties it.",
        author="grace",
        tags=("office",),
    ),
    _e(
        "tm-kudos",
        3.0,
        "Kudos to carol for running INC-2291 calmly and for the clear postmortem.",
        tags=("team",),
    ),
    _e(
        "tm-guild",
        30.2,
        "The Go guild meets every other Monday at 16:00 to discuss libraries and review the shared "
        "lint rules.",
        author="bob",
        tags=("team",),
    ),
    _e(
        "tm-design-docs",
        18.5,
        "Design docs follow the template in Notion: context, goals, non-goals, options, decision, rollout.",
        tags=("process", "docs"),
    ),
    # --- other decisions --------------------------------------------------------------------------
    _e(
        "dc-go",
        90.5,
        "Decision: new backend services are written in Go; Python stays only for data tooling.",
        kind="decision",
        tags=("architecture",),
    ),
    _e(
        "dc-repos",
        81.5,
        "Decision: backend services stay in separate repositories; we do not move to a monorepo this year.",
        kind="decision",
        tags=("tooling",),
    ),
    _e(
        "dc-postgres",
        72.5,
        "Decision: all databases move to Postgres 16 by the end of the quarter; Aurora is not used.",
        author="carol",
        kind="decision",
        tags=("database",),
    ),
    _e(
        "dc-opsgenie",
        65.5,
        "Decision: we keep Opsgenie for paging instead of moving to PagerDuty; the contract renews yearly.",
        author="carol",
        kind="decision",
        tags=("oncall",),
    ),
    _e(
        "dc-api-v1",
        46.5,
        "Decision: API v1 is switched off twelve months after v2 reaches general availability, "
        "with email reminders at 6, 3 and 1 month.",
        kind="decision",
        tags=("api",),
    ),
    _e(
        "dc-otel",
        39.5,
        "Decision: tracing moves to OpenTelemetry with Grafana Tempo; the Jaeger instance is shut "
        "down after the migration.",
        author="carol",
        kind="decision",
        tags=("ops",),
    ),
    _e(
        "dc-design-review",
        26.5,
        "Decision: any change to money movement needs a written design review with a "
        "second team before coding starts.",
        kind="decision",
        tags=("process",),
    ),
    _e(
        "dc-idempotency",
        8.5,
        "Decision: idempotency keys are required on every POST to the public API from v2 "
        "onwards; v1 keeps accepting requests without them.",
        author="bob",
        kind="decision",
        tags=("api",),
    ),
    _e(
        "dc-docs-host",
        34.2,
        "Decision: the developer docs move from ReadMe to Mintlify when the contract ends in February.",
        author="erin",
        kind="decision",
        tags=("docs",),
    ),
    # --- mail -------------------------------------------------------------------------------------
    _e(
        "em-credits",
        60.2,
        "Fwd: AWS Activate - we have 40,000 dollars of credits left, expiring at the end of next year.",
        **_EMAIL,
        tags=("cost",),
    ),
    _e(
        "em-legal",
        55.2,
        "From legal: the new merchant terms require 30 days notice before any price change; update "
        "the pricing page wording.",
        author="erin",
        **_EMAIL,
        tags=("pricing", "legal"),
    ),
    _e(
        "em-adyen",
        27.2,
        "Adyen scheduled maintenance on Sunday from 01:00 to 03:00 UTC; card payments fail over to "
        "Stripe automatically.",
        author="carol",
        importance=Importance.HIGH,
        **_EMAIL,
        tags=("payments",),
    ),
    _e(
        "em-conference",
        40.2,
        "Three tickets for GopherCon EU were approved; dan, bob and Ines are going.",
        **_EMAIL,
        tags=("team",),
    ),
    _e(
        "em-insurance",
        17.2,
        "Cyber insurance renewal asks for proof of backups and MFA; carol is collecting the evidence.",
        **_EMAIL,
        tags=("compliance",),
    ),
    _e(
        "em-invoices",
        12.2,
        "Finance reminder: merchant invoices for November go out on the 3rd; disputes go to "
        "billing@orbit.dev.",
        author="grace",
        **_EMAIL,
        tags=("finance",),
    ),
    _e(
        "em-bank",
        9.2,
        "Reminder from the bank: no SEPA payouts on December 25 and 26; payouts scheduled then move "
        "to the 27th.",
        author="grace",
        **_EMAIL,
        tags=("payouts",),
    ),
    _e(
        "em-freeze",
        45.5,
        "Code freeze for the Black Friday period runs from November 20 to December 2; only fixes "
        "approved by alice go out.",
        author="erin",
        importance=Importance.HIGH,
        expires_in=12.0,
        **_EMAIL,
        tags=("release",),
    ),
)

PLANTED: tuple[Entry, ...] = (
    # duplicates: the same words, different punctuation or case (so the store's exact check let them in)
    _e(
        "dup-staging",
        40.0,
        "staging is reset from anonymised production data every Sunday at 03:00 UTC -- anything "
        "you created there during the week is gone!",
        author="dan",
        tags=("staging",),
        plant="duplicate",
        twin="dep-staging",
    ),
    _e(
        "dup-refunds",
        20.3,
        "Refunds above 1,000 euros need approval from finance (Maria), before support can issue them",
        author="erin",
        source=Source.EMAIL,
        kind="email",
        plant="duplicate",
        twin="cu-refunds",
    ),
    _e(
        "dup-codeowners",
        15.2,
        "Pull requests need two approvals -- one from a CODEOWNERS member of the touched directory.",
        author="bob",
        tags=("process",),
        plant="duplicate",
        twin="on-codeowners",
    ),
    # near-duplicates: light rewordings
    _e(
        "nd-rollback",
        30.0,
        "To roll a service back, revert its image tag in the gitops repository; Argo CD picks "
        "the change up in about two minutes. Never use kubectl edit in production.",
        author="bob",
        tags=("deploy",),
        plant="near_duplicate",
        twin="dep-rollback",
    ),
    _e(
        "nd-rate-limit",
        25.2,
        "The public API rate limit is 100 requests per second per merchant key, enforced at "
        "the Envoy gateway.",
        author="dan",
        tags=("api",),
        plant="near_duplicate",
        twin="ar-rate-limit",
    ),
    _e(
        "nd-laptop",
        20.1,
        "New engineers receive a MacBook Pro from IT on their first day; ask IT two weeks before they start.",
        author="grace",
        tags=("onboarding",),
        plant="near_duplicate",
        twin="on-laptop",
    ),
    # stale: old and never read since
    _e(
        "st-jenkins",
        400.0,
        "The old Jenkins server at ci.orbit.local builds the monolith; ask bob for an account.",
        author="bob",
        tags=("tooling",),
        plant="stale",
    ),
    _e(
        "st-hipchat",
        380.0,
        "Team announcements go to the #general room in HipChat every Monday morning.",
        tags=("team",),
        plant="stale",
    ),
    _e(
        "st-worldpay",
        300.0,
        "The WorldPay processing contract is reviewed every spring by erin and finance.",
        author="erin",
        tags=("payments",),
        plant="stale",
    ),
    _e(
        "st-doorcode",
        250.0,
        "The office door code changes every quarter and grace posts the new one in the team channel.",
        author="grace",
        tags=("office",),
        plant="stale",
    ),
    # expired: past their TTL, hidden from queries but still stored
    _e(
        "ex-move",
        12.5,
        "The office is closed on Friday for the move to the new floor; work from home that day.",
        tags=("office",),
        expires_in=-5.0,
        plant="expired",
    ),
    _e(
        "ex-staging2",
        10.5,
        "Temporary: use staging-2.orbit.dev while staging is rebuilt this week.",
        author="carol",
        tags=("staging",),
        expires_in=-2.0,
        plant="expired",
    ),
    _e(
        "ex-lunch",
        6.5,
        "Lunch order for demo day closes at 11:00; add your name to the sheet in #team-orbit.",
        author="grace",
        tags=("team",),
        expires_in=-1.0,
        plant="expired",
    ),
    # low information
    _e("lo-ok", 19.2, "ok", author="bob", plant="low_information"),
    _e("lo-see", 14.2, "see thread above", author="dan", plant="low_information"),
    _e("lo-plus", 9.1, "+1 👍", author="hiro", plant="low_information"),
    _e("lo-test", 4.0, "test", author="farid", plant="low_information"),
    # a contradiction nobody resolved
    _e(
        "cf-backups",
        11.2,
        "Postgres backups of the main cluster are now kept for 14 days to save storage costs.",
        author="carol",
        tags=("ops", "database"),
        plant="conflict",
        twin="oc-backups",
    ),
)

INCIDENT_KEYS: tuple[str, ...] = tuple(e.key for e in CORE if e.key.startswith("inc-"))
# Memories that are legitimately about the checkout outage without being incident notes.
INCIDENT_RELATED_KEYS: tuple[str, ...] = (
    "tm-kudos",
    "da-replica",
    "dc-idempotency",
    "oc-grafana",
    "oc-sev",
    "oc-status",
    "oc-noise",
    "pl-latency",
    "fe-bundle",
)

ANSWERED_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("how do I roll back a bad deploy?", "dep-rollback"),
    ("which days can we deploy to production?", "dep-days"),
    ("who has to approve a large refund?", "cu-refunds"),
    ("what caused the checkout outage?", "inc-root"),
    ("how do I swap my on-call week?", "oc-swap"),
    ("where do the application logs go?", "oc-logs"),
)

UNANSWERED_QUESTIONS: tuple[str, ...] = (
    "how do I expense a taxi to the airport?",
    "is there a gym discount for employees?",
    "who is our contact at the tax advisor?",
)


def planted_history() -> list[Entry]:
    """The history with every planted problem; the reversed decision does not say what it replaces."""
    return sorted([*CORE, *PLANTED], key=lambda e: -e.day)


def clean_history() -> list[Entry]:
    """The same history without the planted problems; the reversal supersedes the decision it replaced."""
    entries = [replace(e, supersedes="eb-kafka") if e.key == "eb-rabbit" else e for e in CORE]
    return sorted(entries, key=lambda e: -e.day)


def _draft(entry: Entry, now: datetime, ids: dict[str, int]) -> MemoryDraft:
    return MemoryDraft(
        text=entry.text,
        kind=entry.kind,
        tags=entry.tags,
        importance=entry.importance,
        source=entry.source,
        source_ref=f"orbit:{entry.key}",
        author=entry.author,
        author_id=f"slack:T0RBIT:{entry.author}",
        created_at=now - timedelta(days=entry.day),
        expires_at=None if entry.expires_in is None else now + timedelta(days=entry.expires_in),
        supersedes=ids[entry.supersedes] if entry.supersedes else None,
    )


async def load_history(
    core: MemoryCore, tenant: str, entries: Sequence[Entry], *, now: datetime
) -> dict[str, int]:
    """Store the entries oldest first (batched; an entry that supersedes another goes through `store`).

    Returns the memory id of every entry key.
    """
    ids: dict[str, int] = {}
    batch: list[Entry] = []

    async def flush() -> None:
        results = await core.store_many(tenant, [_draft(e, now, ids) for e in batch])
        for entry, result in zip(batch, results, strict=True):
            assert result.created, f"{entry.key} was refused as a duplicate of #{result.duplicate_of}"
            ids[entry.key] = result.id
        batch.clear()

    for entry in entries:
        if entry.supersedes is None:
            batch.append(entry)
            continue
        await flush()
        result = await core.store(tenant, _draft(entry, now, ids))
        ids[entry.key] = result.id
    await flush()
    return ids


class CachedEmbedder:
    """The real model's vectors, remembered per text: the 200-memory history is embedded once per session.

    Same model id, same dimension, same vectors as the wrapped embedder; only faster the second time.
    """

    _memo: ClassVar[dict[tuple[str, str], np.ndarray]] = {}

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._inner.model_id
        todo = list(dict.fromkeys(t for t in texts if (model, t) not in self._memo))
        if todo:
            for text, vector in zip(todo, self._inner.embed(todo), strict=True):
                self._memo[(model, text)] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[(model, t)] for t in texts]).astype(np.float32)


ADMIN = Actor(id="cli:admin", name="admin", is_admin=True)


async def link_supersedes(core: MemoryCore, tenant: str, old: int, new: int) -> None:
    """Mark `old` as replaced by `new` after the fact (what the quality report's conflict hint suggests)."""
    await core.update(tenant, old, MemoryPatch(superseded_by=new), actor=ADMIN)
