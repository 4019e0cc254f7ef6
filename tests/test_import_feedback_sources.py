"""Feedback imports from review stores and support desks: stars are CSAT, dates are kept,
and a file without ids imports again without doubling."""

import json
from datetime import UTC, datetime

from tracker.models import Channel, Customer, Feedback, ImportStatus
from tracker.services.imports import import_run, import_start


def feedback(workspace, data, filename="reviews.json", **kw):
    job = import_start(workspace=workspace, actor=None, kind="feedback", filename=filename, data=data, **kw)
    return import_run(job.pk)


PLAY_SCRAPER = [
    {
        "reviewId": "gp:AOqpTOE1",
        "userName": "Maria K",
        "userImage": "https://play-lh.googleusercontent.com/a",
        "content": "Love it, but sync is slow",
        "score": 5,
        "thumbsUpCount": 3,
        "reviewCreatedVersion": "4.2.0",
        "at": "2024-06-01 10:15:00",
        "replyContent": None,
        "repliedAt": None,
        "appVersion": "4.2.0",
    },
    {
        "reviewId": "gp:AOqpTOE2",
        "userName": "Tom",
        "content": "Crashes on start",
        "score": 1,
        "at": "2024-06-02 08:00:00",
        "appVersion": None,
    },
]


def test_google_play_scraper_stars_become_csat_not_nps(workspace):
    job = feedback(workspace, json.dumps(PLAY_SCRAPER).encode())
    assert (job.format, job.source, job.created) == ("google_play", "google-play", 2)
    happy = Feedback.objects.get(external_id="gp:AOqpTOE1")
    assert (happy.csat, happy.nps) == (5, None)
    assert happy.received_at == datetime(2024, 6, 1, 10, 15, tzinfo=UTC)
    assert happy.customer.name == "Maria K" and "version 4.2.0" in happy.tags
    assert Feedback.objects.get(external_id="gp:AOqpTOE2").csat == 1


PLAY_CONSOLE = (
    "Package Name,App Version Code,App Version Name,Reviewer Language,Device,Review Submit Date and Time,"
    "Review Submit Millis Since Epoch,Review Last Update Date and Time,Review Last Update Millis Since Epoch,"
    "Star Rating,Review Title,Review Text,Developer Reply Date and Time,Developer Reply Millis Since Epoch,"
    "Developer Reply Text,Review Link\n"
    "com.acme.app,412,4.1.2,de,a52,2024-05-03T09:00:00Z,1714726800000,2024-05-03T09:00:00Z,1714726800000,"
    '2,,"Die App stürzt ab, bitte beheben",,,,\n'
    "com.acme.app,412,4.1.2,en,a52,2024-05-04T09:00:00Z,1714813200000,2024-05-04T09:00:00Z,1714813200000,"
    "4,,Works well,,,,\n"
)


def test_a_play_console_csv_in_utf_16_is_read_and_imports_again_without_doubling(workspace):
    data = PLAY_CONSOLE.encode("utf-16")
    job = feedback(workspace, data, filename="reviews_202405.csv")
    assert (job.format, job.encoding, job.created) == ("google_play", "utf-16", 2)
    german = Feedback.objects.get(body__startswith="Die App")
    assert german.csat == 2 and german.received_at == datetime(2024, 5, 3, 9, 0, tzinfo=UTC)
    again = feedback(workspace, data, filename="reviews_202405.csv")
    assert (again.created, again.error_count) == (0, 0)
    assert Feedback.objects.count() == 2


APP_STORE = [
    {
        "date": "2024-07-01T12:00:00",
        "review": "Great widget",
        "rating": 4,
        "isEdited": False,
        "userName": "ann1",
        "title": "Nice",
    },
    {
        "date": "2024-07-02T12:00:00",
        "review": "Login loops forever",
        "rating": 1,
        "isEdited": True,
        "userName": "bob2",
        "title": "Broken",
    },
]


def test_app_store_reviews_without_ids_get_a_natural_key(workspace):
    data = json.dumps(APP_STORE).encode()
    job = feedback(workspace, data)
    assert (job.format, job.created) == ("app_store", 2)
    review = Feedback.objects.get(body="Login loops forever")
    assert (review.csat, review.title) == (1, "Broken") and review.external_id.startswith("sha256:")
    again = feedback(workspace, data)
    assert again.created == 0 and Feedback.objects.count() == 2


def test_a_generic_file_without_ids_does_not_double_on_reimport(workspace):
    data = b"text,date\nSearch please,2024-01-01\nDark mode,2024-01-02\nDark mode,2024-01-03\n"
    feedback(workspace, data, filename="survey.csv")
    feedback(workspace, data, filename="survey.csv")
    assert Feedback.objects.count() == 3


def test_identical_reviews_without_ids_are_each_kept_and_each_found_again(workspace):
    data = b"text,date\nGreat app,2024-01-01\nGreat app,2024-01-01\nGreat app,2024-01-01\n"
    assert feedback(workspace, data, filename="reviews.csv").created == 3
    again = feedback(workspace, data, filename="reviews.csv")
    assert (again.created, Feedback.objects.count()) == (0, 3)


ZENDESK = (
    "Id,Requester,Requester email,Subject,Description,Status,Via,Satisfaction Score,Created at,Tags\n"
    '101,Ann Lee,ann@example.com,Export fails,"The CSV export times out\nfor big projects",Solved,Mail,Bad,'
    "2024-03-01 10:00,export bug\n"
    "102,Bob Roe,bob@example.com,Thanks,,Closed,Web Form,Good,2024-03-02 11:00,\n"
    "103,Cid,cid@example.com,Question about SSO,Do you support Okta?,Open,Chat,Offered,2024-03-03 12:00,\n"
)


def test_support_tickets_keep_requester_subject_and_satisfaction(workspace):
    job = feedback(workspace, ZENDESK.encode(), filename="tickets.csv")
    assert (job.format, job.source, job.created, job.error_count) == ("tickets_csv", "tickets", 3, 0)
    export = Feedback.objects.get(external_id="101")
    assert export.title == "Export fails" and export.body.startswith("The CSV export times out")
    assert (export.csat, export.channel) == (1, Channel.EMAIL)
    assert export.customer == Customer.objects.get(email="ann@example.com")
    thanks = Feedback.objects.get(external_id="102")
    assert (thanks.body, thanks.title, thanks.csat, thanks.channel) == ("Thanks", "", 5, Channel.WEB_FORM)
    assert Feedback.objects.get(external_id="103").csat is None  # offered, not answered


def test_a_json_lines_file_cut_off_mid_line_writes_nothing(workspace):
    lines = "".join(json.dumps({"text": f"Idea {n}", "id": n}) + "\n" for n in range(30))
    job = feedback(workspace, lines[:-15].encode(), filename="ideas.jsonl")
    assert job.status == ImportStatus.FAILED and "line 30" in job.message and "cut off" in job.message
    assert not Feedback.objects.exists()


def test_a_feedback_csv_saved_by_excel_is_read_with_its_encoding(workspace):
    data = "Comment,Date\nDie Suche ist zu langsam für große Projekte,2024-02-01\n".encode("cp1252")
    job = feedback(workspace, data, filename="umfrage.csv")
    assert job.status == ImportStatus.DONE and job.created == 1 and job.encoding == "cp1252"
    assert Feedback.objects.get().body == "Die Suche ist zu langsam für große Projekte"


def test_google_play_scraper_output_saved_as_csv_keeps_stars_as_csat(workspace):
    data = (
        b"reviewId,userName,userImage,content,score,thumbsUpCount,reviewCreatedVersion,at,replyContent,repliedAt,"
        b"appVersion\ngp:1,Ann,https://x/a.png,Great app,5,0,1.2,2024-04-01 09:00:00,,,1.2\n"
    )
    job = feedback(workspace, data, filename="reviews.csv")
    review = Feedback.objects.get()
    assert job.format == "google_play" and (review.csat, review.nps) == (5, None)
    assert review.received_at == datetime(2024, 4, 1, 9, tzinfo=UTC)


def test_node_app_store_scraper_output_keeps_stars_as_csat(workspace):
    reviews = [
        {"id": "11", "userName": "kim", "userUrl": "https://x", "version": "3.1", "score": 2, "title": "Meh",
         "text": "Too many ads", "updated": "2024-08-01T10:00:00-07:00"},
    ]  # fmt: skip
    job = feedback(workspace, json.dumps(reviews).encode())
    review = Feedback.objects.get()
    assert job.format == "app_store" and (review.csat, review.nps, review.external_id) == (2, None, "11")


def test_google_forms_timestamps_with_seconds_are_read(workspace):
    data = b"Timestamp,Comment\n1/30/2024 10:05:44,Please add exports\n"
    feedback(workspace, data, filename="form.csv")
    assert Feedback.objects.get().received_at == datetime(2024, 1, 30, 10, 5, 44, tzinfo=UTC)


def test_a_long_file_whose_accents_come_after_the_first_megabyte_is_read_in_their_encoding(workspace):
    filler = "plain ascii text " * 40
    rows = "".join(f"{filler}{n},r{n}\n" for n in range(1600))  # over 1 MB
    data = ("text,id\n" + rows + "Le café est trop lent,last\n").encode("cp1252")
    assert len(data) > 1024 * 1024
    job = feedback(workspace, data, filename="long.csv")
    assert (job.status, job.encoding, job.created) == (ImportStatus.DONE, "cp1252", 1601)
    assert Feedback.objects.get(external_id="last").body == "Le café est trop lent"
