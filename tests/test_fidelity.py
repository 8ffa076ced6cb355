"""Real-world mail through the inbound pipeline: what the application's handler receives for charsets and uuencode."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request

from mailgun_mock import MailgunMock

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
PARAGRAPH = ("Bonjour Claire, merci pour le compte rendu de la réunion de jeudi. J’ai relu le planning : la livraison "
             "des éléments préfabriqués est prévue pour le 14 mars, et l’équipe de Günther s’occupe du béton le 17. "
             "Le devis révisé s’élève à 12 480 € HT, soit \ufffdgalement le montant indiqu\ufffd dans ta note — je te "
             "laisse vérifier. \ufffd Côté sécurité, les contrôles sont programmés la semaine du 24.")
RUSSIAN = ("Добрый день, Ольга!\n\nСпасибо за письмо. Договор подпишем в четверг, в десять утра, у нас в офисе на "
           "Садовой.\nПожалуйста, возьмите с собой паспорт и копию доверенности.")


def forwarded(mock: MailgunMock, receiver: HTTPServer, name: str) -> tuple[dict[str, str], Request]:
    """Inject a fixture through a forward(url) route; the fields and the request the application received."""
    receiver.expect_request("/inbound").respond_with_data("ok")
    mock.create_route("catch_all()", f'forward("{receiver.url_for("/inbound")}")')
    mock.inject((FIXTURES / name).read_bytes(), recipients=["in@example.com"])
    (request, _), = receiver.log
    return request.form.to_dict(), request


def stored(mock: MailgunMock, name: str) -> dict[str, Any]:
    """Inject a fixture through a store() route; the stored message's JSON."""
    mock.create_route("catch_all()", "store()")
    answer = mock.inject((FIXTURES / name).read_bytes(), recipients=["in@example.com"])
    return mock.stored_message(answer["recipients"][0]["actions"][0]["storage"]["url"])


def test_utf8_part_with_invalid_bytes_is_replaced_only_where_invalid(mailgun_mock: MailgunMock,
                                                                     receiver: HTTPServer) -> None:
    """A UTF-8 paragraph with three bad bytes arrives as UTF-8 with three U+FFFD, not as cp1252 mojibake."""
    fields, _ = forwarded(mailgun_mock, receiver, "charset-utf8-invalid-bytes.eml")
    assert fields["body-plain"].startswith(PARAGRAPH + "\n\nÀ bientôt,\nJulien\n\nLe lun. 3 mars 2025")
    assert fields["body-plain"].count("\ufffd") == 3 and "Ã" not in fields["body-plain"]
    assert (fields["stripped-text"], fields["stripped-signature"]) == (PARAGRAPH, "À bientôt,\nJulien")
    assert fields["subject"] == "Re: Compte rendu réunion chantier"


def test_misdeclared_charsets_are_detected(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """Text labelled UTF-8 but written in windows-1251, and HTML labelled ISO-8859-1 but UTF-8, both read right."""
    fields, _ = forwarded(mailgun_mock, receiver, "charset-misdeclared.eml")
    assert fields["body-plain"] == RUSSIAN + "\n\n-- \nИван Смирнов\nООО «Пример», отдел продаж\n"
    assert (fields["stripped-text"], fields["stripped-signature"]) == (
        RUSSIAN, "-- \nИван Смирнов\nООО «Пример», отдел продаж")
    assert "<p>Добрый день, Ольга!</p>" in fields["body-html"] and "Ð" not in fields["body-html"]
    assert fields["from"] == "Иван Смирнов <ivan.smirnov@example.ru>"


def test_uuencoded_parts_become_attachments(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """x-uuencode and uuencode parts are posted decoded, named from their begin line when the part has no name."""
    fields, request = forwarded(mailgun_mock, receiver, "uuencode-attachment.eml")
    assert fields["attachment-count"] == "2"
    csv, png = request.files["attachment-1"], request.files["attachment-2"]
    assert (csv.filename, csv.mimetype) == ("stock-20250305.csv", "text/csv")
    assert csv.read() == b"sku;qty;price\nA-100;4;12.50\nB-220;1;99.00\nC-310;12;3.20\n" * 3
    assert (png.filename, png.mimetype) == ("depot-map.png", "image/png")
    assert png.read().startswith(b"\x89PNG\r\n\x1a\n")
    assert fields["body-plain"] == "Attached: today's stock levels (stock-20250305.csv) and the depot map.\n"


def test_inline_uuencoded_block_is_an_attachment_and_leaves_the_body(mailgun_mock: MailgunMock,
                                                                    receiver: HTTPServer) -> None:
    """A "begin 644 name" block in a plain body becomes attachment-1 and is removed from body-plain."""
    fields, request = forwarded(mailgun_mock, receiver, "uuencode-inline.eml")
    assert fields["body-plain"] == ("Hello,\n\nthe export stops with an error dialog; a screenshot is below.\n\n"
                                    "It happens every time since the update on Monday.\n\nHans\n")
    assert fields["attachment-count"] == "1"
    image = request.files["attachment-1"]
    assert (image.filename, image.mimetype) == ("error-dialog.png", "image/png")
    assert image.read().startswith(b"\x89PNG\r\n\x1a\n")


def test_stored_message_lists_uuencoded_files(mailgun_mock: MailgunMock) -> None:
    """store() keeps the inline uuencoded file as an attachment, downloadable with its bytes."""
    message = stored(mailgun_mock, "uuencode-inline.eml")
    (attachment,) = message["attachments"]
    assert (attachment["name"], attachment["content-type"]) == ("error-dialog.png", "image/png")
    assert "begin 644" not in message["body-plain"]
    assert json.dumps(message)  # the JSON an application GETs is serialisable as it stands


def test_stored_message_has_detected_charset_text(mailgun_mock: MailgunMock) -> None:
    """store() keeps the detected text: the stored body-plain and stripped-text are the windows-1251 text decoded."""
    message = stored(mailgun_mock, "charset-misdeclared.eml")
    assert message["body-plain"].startswith(RUSSIAN)
    assert message["stripped-text"] == RUSSIAN
