"""Words for the demo workspace: the problems customers of each project talk about."""

# (item title, kind, label, [how customers say it])
SHOP_THEMES = [
    (
        "Checkout fails with PayPal",
        "bug",
        "checkout",
        [
            "the checkout fails every time I pay with PayPal",
            "PayPal payment just spins and then says something went wrong",
            "I could not finish my order with PayPal, had to use a card",
        ],
    ),
    (
        "Save the cart across devices",
        "story",
        "checkout",
        [
            "my cart is empty when I switch from phone to laptop",
            "I lose everything in the basket when I log in on another device",
        ],
    ),
    (
        "Faster product search",
        "story",
        "search",
        [
            "search takes forever to show results",
            "searching for anything is painfully slow on mobile",
            "the search results load so slowly I give up",
        ],
    ),
    (
        "Search understands typos",
        "story",
        "search",
        [
            "if I misspell a product name the search finds nothing",
            "search should understand typos like every other shop",
        ],
    ),
    (
        "Track my delivery",
        "story",
        "delivery",
        [
            "I never know where my parcel is",
            "please add live tracking for deliveries",
            "there is no way to see when my order will arrive",
        ],
    ),
    (
        "Easier returns",
        "story",
        "returns",
        [
            "returning an item is far too complicated",
            "I had to call support just to return a pair of shoes",
            "the returns form keeps rejecting my order number",
        ],
    ),
    (
        "Dark mode for the app",
        "story",
        "mobile",
        [
            "please add a dark mode, the app is blinding at night",
            "dark mode would make the app so much nicer to use",
        ],
    ),
    (
        "App crashes on photo upload in reviews",
        "bug",
        "mobile",
        [
            "the app crashes when I try to add a photo to my review",
            "uploading a picture with my review closes the app",
        ],
    ),
    (
        "Wishlist sharing",
        "story",
        "wishlist",
        [
            "I want to share my wishlist with family before my birthday",
            "let me send my wishlist to a friend",
        ],
    ),
    (
        "Clearer delivery costs",
        "story",
        "checkout",
        [
            "shipping costs only show up at the very last step",
            "I was surprised by the delivery fee at checkout",
        ],
    ),
    (
        "Guest checkout",
        "story",
        "checkout",
        [
            "I do not want to create an account just to buy one thing",
            "forcing me to register before paying is annoying",
        ],
    ),
    (
        "Size guide per brand",
        "story",
        "catalogue",
        [
            "sizes differ so much between brands, I keep ordering wrong",
            "a proper size guide would save me two returns a month",
        ],
    ),
    (
        "Newsletter unsubscribe is broken",
        "bug",
        "account",
        [
            "I unsubscribed three times and still get the newsletter",
            "the unsubscribe link leads to an error page",
        ],
    ),
    (
        "Accessible product pages",
        "story",
        "accessibility",
        [
            "my screen reader cannot read the product options",
            "the colour picker is impossible to use with a keyboard",
        ],
    ),
    (
        "Gift cards",
        "story",
        "checkout",
        [
            "I would love to buy a gift card for my sister",
            "why can I not pay with a gift card?",
        ],
    ),
]

DESK_THEMES = [
    (
        "Self-service password reset",
        "story",
        "access",
        [
            "I have to wait a day for IT to reset my password",
            "let us reset our own passwords without a ticket",
            "locked out again and nobody answers the hotline before nine",
        ],
    ),
    (
        "Laptop requests take weeks",
        "story",
        "hardware",
        [
            "my new laptop took three weeks to arrive",
            "new starters sit without a laptop for days",
        ],
    ),
    (
        "VPN drops every hour",
        "bug",
        "network",
        [
            "the VPN disconnects every hour and I lose my work",
            "VPN keeps dropping during video calls",
            "working from home is painful because the VPN falls over",
        ],
    ),
    (
        "Ticket status updates by e-mail",
        "story",
        "service-desk",
        [
            "I never hear back on my ticket until it is closed",
            "please tell me when someone picks up my ticket",
        ],
    ),
    (
        "Software catalogue with one-click installs",
        "story",
        "software",
        [
            "installing a simple tool needs admin rights and a ticket",
            "give us a catalogue of approved software we can install ourselves",
        ],
    ),
    (
        "Printer queue stuck on floor 3",
        "bug",
        "hardware",
        [
            "the printer on floor 3 has been stuck all week",
            "print jobs vanish on the third floor printer",
        ],
    ),
    (
        "Single sign-on for HR portal",
        "story",
        "access",
        [
            "yet another password for the HR portal",
            "why does the HR portal not use our normal login?",
        ],
    ),
    (
        "Meeting room screens do not connect",
        "bug",
        "hardware",
        [
            "half the meeting rooms will not show my laptop screen",
            "we lose ten minutes of every meeting fighting the room display",
        ],
    ),
    (
        "Knowledge base search",
        "story",
        "service-desk",
        [
            "I cannot find anything in the IT knowledge base",
            "the help articles are out of date and hard to search",
        ],
    ),
    (
        "Onboarding checklist for new starters",
        "story",
        "onboarding",
        [
            "my new hire had no accounts on day one",
            "onboarding a new team member takes too many tickets",
        ],
    ),
]

EXEC_THEMES = [
    (
        "Weekly KPI digest by e-mail",
        "story",
        "reporting",
        [
            "I want the key numbers in my inbox every Monday",
            "send me a short weekly summary of our KPIs",
        ],
    ),
    (
        "Revenue dashboard loads too slowly",
        "bug",
        "reporting",
        [
            "the revenue dashboard takes a minute to load in the board meeting",
            "dashboards are too slow to use live with the board",
        ],
    ),
    (
        "Drill down from KPI to region",
        "story",
        "reporting",
        [
            "I need to see which region drives the drop in margin",
            "let me click a KPI and see it by region",
        ],
    ),
    (
        "Board pack export to PDF",
        "story",
        "reporting",
        [
            "exporting the board pack still takes a day of copy and paste",
            "one click to a PDF board pack, please",
        ],
    ),
    (
        "Forecast vs actuals view",
        "story",
        "finance",
        [
            "we cannot compare forecast and actuals in one place",
            "show me forecast against actuals per quarter",
        ],
    ),
    (
        "Mobile access to dashboards",
        "story",
        "mobile",
        [
            "I travel a lot and cannot open the dashboards on my phone",
            "dashboards are unreadable on a tablet",
        ],
    ),
    (
        "Data freshness indicator",
        "story",
        "data",
        [
            "I never know how old the numbers on the dashboard are",
            "show when the data was last refreshed",
        ],
    ),
    (
        "Customer churn early warning",
        "story",
        "analytics",
        [
            "we learn about churn only when the customer has gone",
            "flag accounts that are about to leave",
        ],
    ),
]

INTERNAL_WORK = [
    ("Upgrade the database driver", "task"),
    ("Spike: evaluate a new payment provider", "spike"),
    ("Refactor the order service", "task"),
    ("Add monitoring alerts for the API", "task"),
    ("Spike: caching strategy for listings", "spike"),
    ("Rotate service credentials", "task"),
    ("Remove the legacy export job", "task"),
    ("Load test the login flow", "task"),
    ("Document the deployment runbook", "task"),
    ("Automate the nightly backup check", "task"),
]

ASPECTS = [
    "on mobile",
    "for returning users",
    "edge cases",
    "follow-up",
    "for large accounts",
    "in the EU",
    "first slice",
    "polish",
    "analytics",
    "error handling",
    "for partners",
    "performance",
    "accessibility pass",
    "copy and wording",
    "rollout",
]

OPENERS = ["", "Honestly, ", "Hi team, ", "Quick note: ", "Love the product, but ", "Again: ", "FYI ", "Frankly "]
CLOSERS = [
    "",
    " Please fix this.",
    " Thanks!",
    " This is costing us time.",
    " Otherwise great.",
    " Any news?",
    " Really frustrating.",
]

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dora",
    "Eli",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Jana",
    "Kofi",
    "Lena",
]
LAST_NAMES = [
    "Adler",
    "Berg",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Meyer",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
]
ORG_NAMES = [
    "Northwind Traders",
    "Bluebird Retail",
    "Contoso Partners",
    "Fabrikam Logistics",
    "Litware Stores",
    "Tailspin Travel",
    "Wingtip Outfitters",
    "Adventure Works",
    "Proseware",
    "Lucerne Publishing",
    "Margie's Travel",
    "Trey Research",
    "Woodgrove Bank",
    "Coho Vineyard",
    "Humongous Insurance",
]
OBJECTIVES = [
    ("Raise checkout conversion", "Checkout conversion %", 2.1, 3.0),
    ("Cut IT ticket resolution time", "Median resolution hours", 30, 12),
    ("Board-ready reporting", "Hours to prepare the board pack", 16, 2),
    ("Lift NPS among end customers", "NPS", 18, 35),
]


def item_description(item: dict) -> str:
    if item["theme"] is None:
        return f"Internal work: {item['title'].lower()}.\n\n- keep the change small\n- measure before and after"
    return (
        f"Customers keep telling us about this. **Why:** {item['title'].lower()} is one of the most "
        f"repeated problems in the inbox.\n\n**What done looks like**\n\n- the problem no longer appears in new feedback\n"
        f"- customers who asked hear back from us"
    )


def item_criteria(item: dict) -> str:
    if item["kind"] in ("epic", "spike"):
        return ""
    return "- [ ] works on web and mobile\n- [ ] covered by tests\n- [ ] release note written"
