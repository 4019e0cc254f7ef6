"""Django forms for parsing and re-rendering input; the services hold the rules."""

from typing import Any

from django import forms

from tracker.models import Channel, ItemKind, ItemStatus, Priority, Segment, Tier, TriageState
from tracker.models.feedback import LoopState

BLANK = [("", "Any")]


class ItemCreateForm(forms.Form):
    title = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"placeholder": "What needs doing?"}))
    kind = forms.ChoiceField(choices=ItemKind.choices, initial=ItemKind.STORY)
    estimate = forms.CharField(required=False, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 4}))
    position = forms.ChoiceField(choices=[("bottom", "Bottom"), ("top", "Top")], initial="bottom")


class QuickEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=ItemStatus.choices, required=False)
    estimate = forms.CharField(required=False)


class ItemEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(max_length=255)
    kind = forms.ChoiceField(choices=ItemKind.choices)
    status = forms.ChoiceField(choices=ItemStatus.choices)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int)
    estimate = forms.CharField(required=False, help_text="Points")
    epic = forms.ChoiceField(required=False)
    assignee = forms.ChoiceField(required=False)
    labels = forms.CharField(required=False, help_text="Comma-separated")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown")
    acceptance_criteria = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a comment"}), label="Comment")


class SprintForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    goal = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"placeholder": "What this sprint achieves, for whom"})
    )
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    capacity = forms.IntegerField(min_value=0, max_value=10000, help_text="Points")
    name = forms.CharField(max_length=120)


class CloseSprintForm(forms.Form):
    carry_over_to = forms.ChoiceField(required=False, label="Unfinished items go to")


class LinkForm(forms.Form):
    item = forms.UUIDField(error_messages={"required": "Pick an item to link."})
    quote = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CreateItemFromFeedbackForm(forms.Form):
    project = forms.ChoiceField()
    title = forms.CharField(max_length=255)
    kind = forms.ChoiceField(choices=ItemKind.choices, initial=ItemKind.STORY)
    quote = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DuplicateForm(forms.Form):
    original = forms.UUIDField(error_messages={"required": "Pick the original feedback."})


class ReviewFeedbackForm(forms.Form):
    customer_name = forms.CharField(max_length=200, required=False, label="Who said it")
    customer_email = forms.EmailField(required=False, label="Their e-mail")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What they said")


class PublicFeedbackForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label="Your name")
    email = forms.EmailField(required=False, label="Your e-mail", help_text="So we can tell you when it ships.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Your feedback", max_length=20000)
    nps = forms.TypedChoiceField(
        choices=[("", "—")] + [(str(n), str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        label="How likely are you to recommend us to a friend? (0–10)",
    )
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")


CHANNEL_CHOICES = BLANK + list(Channel.choices)
SEGMENT_CHOICES = BLANK + list(Segment.choices)
TIER_CHOICES = BLANK + list(Tier.choices)
TRIAGE_CHOICES = [*TriageState.choices, ("all", "All")]
LOOP_CHOICES = BLANK + list(LoopState.choices)
SCORE_CHOICES = BLANK + [
    ("detractor", "Detractors"),
    ("passive", "Passives"),
    ("promoter", "Promoters"),
    ("unscored", "No score"),
]
STATUS_FILTER_CHOICES = [("open", "Open"), *ItemStatus.choices, ("all", "All")]
KIND_CHOICES = [("", "All but epics"), ("all", "Everything"), *ItemKind.choices]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("feedback", "Feedback (CSV, JSON, JSON Lines, app store reviews or support tickets)"),
            ("backlog", "Backlog (a Jira, GitHub, Linear or Trello export)"),
        ],
        initial="feedback",
        label="What the file holds",
    )
    project = forms.ChoiceField(required=False, label="Into project", help_text="For a backlog file")
    source = forms.CharField(
        max_length=40,
        required=False,
        label="Source",
        help_text="Importing again with the same source updates rows instead of doubling them",
    )
    file = forms.FileField(label="File", allow_empty_file=True)


class ImportStatusesForm(forms.Form):
    """A previewed backlog import's status mapping: one select per status the file uses,
    in the preview's order (fields are numbered: a file's status names are any text). A
    status left out keeps the proposed one."""

    def __init__(self, statuses: list[dict[str, Any]], data: Any = None) -> None:
        super().__init__(data, prefix="status")
        self.names = [entry["name"] for entry in statuses]
        for index, entry in enumerate(statuses):
            self.fields[str(index)] = forms.ChoiceField(
                choices=ItemStatus.choices,
                required=False,
                initial=entry["status"],
                label=entry["name"],
                widget=forms.Select(attrs={"class": "status-select"}),
            )

    def mapping(self) -> dict[str, str]:
        """{file status name: Loopwise status} for the statuses chosen."""
        chosen = ((name, self.cleaned_data[str(index)]) for index, name in enumerate(self.names))
        return {name: status for name, status in chosen if status}


class ProjectSettingsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    mix_end_customer = forms.IntegerField(min_value=0, max_value=100, label="End customers %")
    mix_employee = forms.IntegerField(min_value=0, max_value=100, label="Employees %")
    mix_management = forms.IntegerField(min_value=0, max_value=100, label="Management %")
    mix_partner = forms.IntegerField(min_value=0, max_value=100, label="Partners %")
    notify_customers = forms.BooleanField(required=False, label="E-mail customers a digest when a sprint closes")
    digest_subject = forms.CharField(max_length=200, required=False, label="Digest subject")
    digest_template = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 14}), label="Digest body (plain text template)"
    )


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="Target URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None checked means every event"
    )
    allow_private = forms.BooleanField(required=False, label="Allow loopback and private addresses")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Name")
    scope = forms.ChoiceField(choices=[("write", "Read and write"), ("read", "Read only")], initial="write")
