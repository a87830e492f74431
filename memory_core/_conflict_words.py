"""The words and patterns the conflict finder (`_conflicts`) reads texts with: cues, units, names."""

from __future__ import annotations

import re

__all__ = [
    "BYTES",
    "CHANGE",
    "CHANGE_WORDS",
    "CLAUSE_BREAK",
    "CLOCK",
    "COMMON",
    "DAYS",
    "DAY_MONTH",
    "DECISION",
    "EMAIL",
    "EVERY",
    "FREQUENCY",
    "HISTORY",
    "HOST",
    "IRREGULAR",
    "ISO_DATE",
    "LIGHT",
    "MENTION",
    "MONEY",
    "MONTHS",
    "MONTH_DAY",
    "MONTH_NAMES",
    "NAME",
    "NEGATION_PHRASES",
    "NEGATION_WORDS",
    "NOT_NAMES",
    "NUMBER",
    "NUMBER_WORDS",
    "REASON",
    "REJECTED",
    "REPLACED_BY",
    "SECONDS",
    "STOP",
    "URL",
    "VERSION",
    "VERSION_CUES",
    "WORD",
    "in_order",
    "word_set",
]


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def in_order(words: str) -> list[str]:
    return words.split()


STOP = word_set(
    "a an the and or but if of to in on at by for with from into onto over under about as is are was were be "
    "been being am do does did doing done have has had having will would shall should can could may might "
    "must it its it's this that these those there here we our ours us you your they their them he she his "
    "her i me my who whom which what when where why how all any each every some such only also too very "
    "just so than then same other up out off again ever via per like within up get gets got let lets "
    "one's s t re ve ll d is isn aren wasn weren yes ok please thanks fyi via until after before since "
    "because while both either neither more most less least much many few own able need needs needed use "
    "uses used using longer anymore"
)
# Verbs that only carry a sentence ("X is done in Y", "X happens on Y") are too common to be a subject.
LIGHT = word_set("happen happens happened go goes went make makes made done do thing things way ways")
NEGATION_WORDS = word_set(
    "not no never cannot can't won't don't doesn't didn't isn't aren't wasn't weren't shouldn't couldn't "
    "nobody none nothing neither nor without stop stops stopped stopping drop drops dropped dropping "
    "cancel cancels cancelled canceled retire retires retired retiring abandon abandoned "
    "deprecated deprecate archived disabled disable removed remove revert reverted"
)
# Words that say a change happened, never what it is about.
CHANGE_WORDS = word_set(
    "now instead moved move moving switched switch switching migrated migrate migrating changed replaced "
    "upgraded downgraded becomes become became raised lowered increased reduced bumped forward"
)
NEGATION_PHRASES = ("no longer", "any more", "anymore", "not anymore", "off the table", "rolled back")
CHANGE = re.compile(
    r"\b(?:now|from now on|going forward|as of|moved? to|moving to|switch(?:ed|ing)? to|"
    r"migrat(?:ed|ing|e) to|"
    r"changed? to|replaced (?:by|with)|upgraded to|downgraded to|instead|after all|becomes?|became|"
    r"raised to|lowered to|increased to|reduced to|bumped to|will be|is being|"
    r"(?:from|starting|as of) (?:next|this|today|tomorrow|monday|tuesday|wednesday|thursday|friday|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|q[1-4]))\b",
    re.IGNORECASE,
)
DECISION = re.compile(
    r"^\s*decision\b|\b(?:we|the team|team) (?:have |has )?(?:decided|agreed|chose|chosen|picked|"
    r"settled on)\b|\bfrom now on\b|\bgoing forward\b|\bdecided to\b|\bdecision\s*(?:\(|:)",
    re.IGNORECASE,
)
HISTORY = re.compile(
    r"^\s*\d{1,2}:\d{2}\b|\bupdate\s*:|\bupdate\b.*:|\bstatus\s*:|\binvestigating\b|\bresolved\b|"
    r"\bmitigated\b|\boutage\b|\bsev\s?[0-4]\b|\bpost-?mortem\b|\broll(?:out|ing out)\b|\bmigration\b|"
    r"\bincident\s+(?:#?\d|\d{4}-\d{2}-\d{2}|update|resolved|:)|\bso far\b|\bin progress\b",
    re.IGNORECASE,
)
# Stance markers: what follows was given up; what follows the second group is what replaced it.
REJECTED = re.compile(
    r"\b(?P<cue>instead of|rather than|"
    r"(?:switch\w*|mov\w+|migrat\w+|chang\w+|away)(?:\s+[\w-]+){0,3}?\s+(?:from|off)|"
    r"replac(?:e|ed|ing)(?!\s+(?:by|with)\b)|dropp(?:ed|ing)|drop|retir(?:e|ed|ing)|no longer|"
    r"stop(?:ped)? using|not|no)\s+"
    r"(?:the |our |a |an |using |with )?(?P<what>[\w.+#-]+(?:\s+[A-Z][\w.+#-]*)?)",
    re.IGNORECASE,
)
REPLACED_BY = re.compile(
    r"\b(?P<what>[\w.+#-]+)\s+(?:was|is|were|are|has been|got)\s+(?:replaced|retired|"
    r"dropped|deprecated|archived|removed|sunset)\b",
    re.IGNORECASE,
)
REASON = re.compile(
    r"\b(?:because|so that|so (?:we|it|they|you|our|nobody|no one)|due to|as a result of|the reason|"
    r"in order to)\b|"
    r"\bsince\b(?!\s+(?:the\s+)?(?:\d|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|yesterday|today|last|version|v\d|spring|summer|autumn|fall|winter|"
    r"then|launch|release|q[1-4])\b)",
    re.IGNORECASE,
)
# A comma before a new subject and its verb ("..., Sam is out sick") starts a new clause too.
CLAUSE_BREAK = re.compile(
    r";|\s[—–]\s|\(|\)|,\s*(?:but|which|who|whereas|while)\b|\bbut\b|,\s*so\b|"
    r",\s+(?=[A-Z][a-z]+\s+(?:is|are|was|were|has|have|will|moved|left|owns)\b)"
)

IRREGULAR = {
    "kept": "keep",
    "ran": "run",
    "went": "go",
    "gone": "go",
    "paid": "pay",
    "built": "build",
    "chose": "choose",
    "chosen": "choose",
    "made": "make",
    "wrote": "write",
    "written": "write",
    "held": "hold",
    "left": "leave",
    "got": "get",
    "sent": "send",
    "took": "take",
    "taken": "take",
    "found": "find",
    "began": "begin",
    "begun": "begin",
    "owner": "own",
    "owners": "own",
    "ownership": "own",
    "lives": "live",
    "db": "database",
    "prod": "production",
    "dbs": "database",
    "infra": "infrastructure",
    "repo": "repository",
    "docs": "documentation",
    "doc": "documentation",
}

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "a": 1,
    "an": 1,
    "single": 1,
    "half": 0.5,
    "dozen": 12,
}
SECONDS = {
    "ms": 0.001,
    "millisecond": 0.001,
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "day": 86400,
    "night": 86400,
    "week": 604800,
    "month": 2592000,
    "quarter": 7776000,
    "year": 31536000,
}
BYTES = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
MONEY = {
    "€": "eur",
    "eur": "eur",
    "euro": "eur",
    "$": "usd",
    "usd": "usd",
    "dollar": "usd",
    "£": "gbp",
    "gbp": "gbp",
    "pound": "gbp",
}
FREQUENCY = {
    "hourly": 3600,
    "daily": 86400,
    "nightly": 86400,
    "weekly": 604800,
    "biweekly": 1209600,
    "fortnightly": 1209600,
    "monthly": 2592000,
    "quarterly": 7776000,
    "yearly": 31536000,
    "annually": 31536000,
}
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        in_order("january february march april may june july august september october november december")
    )
}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
VERSION_CUES = word_set("version versions release lts upgraded upgrade downgraded v")
# Capitalised at the start of a sentence for grammar: words that are not names of anything.
COMMON = word_set(
    "the we our a an this that these those it its all each every new no not our your my their his her "
    "please note decision going from since after before when while if as at in on for to by with every "
    "daily weekly monthly max min minimum maximum current currently customer production staging design "
    "error errors team today tomorrow yesterday there here what why how who where status failover "
    "database migration beta hiring code payroll question expense billing point rate read trial failed "
    "infrastructure orders order incident outage stand standup release weekend weekends logs retro "
    "deploys deploy connect secrets alerts interns backups attachments runbooks customers each only "
    "also just then so but and or one two three first next last some any most many more less both "
    "everyone nobody someone ask use keep run make set add remove start stop send move switch agreed "
    "decided switched moved dropped upgraded dashboards grafana"
) - {"grafana"}
NOT_NAMES = word_set(
    "i a an the we our us you it its they this that utc cet cest gmt pst est am pm api pr prs ci id ids "
    "ok fyi tldr eu faq note decision it's lts sla eta asap q1 q2 q3 q4 p1 p2 p3 p4 eod eow"
)

URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
HOST = re.compile(
    r"\b(?:[a-z0-9][a-z0-9-]*\.)+(?:com|org|net|io|so|dev|app|internal|local|corp|cloud|co|ai|tech|xyz)\b"
    r"(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z][\w.-]*[A-Za-z0-9]|[A-Za-z])")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MONTH_NAMES = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_NAMES})\b\.?", re.IGNORECASE)
MONTH_DAY = re.compile(rf"\b({MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:|\d)", re.IGNORECASE)
CLOCK = re.compile(
    r"\b(\d{1,2}):(\d{2})(?:\s?([ap]\.?m\.?))?(?![\d:])|\b(\d{1,2})\s?([ap]m)\b", re.IGNORECASE
)
EVERY = re.compile(
    r"\bevery\s+(?:(other|second|\d+|[a-z]+)\s+)?(day|night|morning|evening|week|month|quarter|year|"
    r"hour|minute)s?\b",
    re.IGNORECASE,
)
VERSION = re.compile(r"\bv?\d+(?:\.\d+){1,3}\b|\bv\d+\b", re.IGNORECASE)
NUMBER = re.compile(
    r"(?P<cur>[$€£])?\s?(?<![\w.])(?P<num>\d+(?:[.,]\d+)*|(?:twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|"
    r"six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    r"nineteen|hundred|dozen|half|single)\b(?P<pct>\s?%)?(?:\s?(?P<unit>[A-Za-z€$£]+))?",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'’+#-]|\.(?=[A-Za-z0-9]))*")
NAME = re.compile(r"^(?:[A-Z][A-Za-z0-9+#.-]*|[a-z]+[A-Z][A-Za-z0-9]*|[0-9]+[A-Z][A-Za-z0-9]*)$")
