"""The localized lines mail clients write around quoted history and signatures. Pure data and small matchers.

Gathered from what Gmail (web and app), Outlook (desktop, web, mobile), Apple Mail (macOS and iOS),
Thunderbird, Samsung Email, Yahoo, Zoho and Proton write in their plain-text parts, in about twenty
languages. Each matcher says whether one line (or a wrapped attribution joined back into one) is such
a marker; the decisions about what to cut live in :mod:`mailgun_mock.mail.quotes` and
:mod:`mailgun_mock.mail.signature`.
"""

from __future__ import annotations

import re

__all__ = [
    "FORWARDED", "HEADER_FIELD", "HEADER_FROM", "ORIGINAL", "OUTLOOK_TEXT", "UNDERSCORES", "WROTE", "attribution_head", "is_attribution",
    "is_mobile_signature", "is_sign_off",
]

_I = re.IGNORECASE


def _words(*words: str) -> str:
    """An alternation of literal phrases, longest first, spaces matching any run of blanks."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


# The verb of an attribution ("On <date>, <name> wrote:"), as clients write it in each language.
_VERBS = _words(
    "wrote", "writes", "schrieb", "geschrieben", "a écrit", "escribió", "escreveu", "schreef", "geschreven", "skrev",
    "kirjoitti", "ha scritto", "scrisse", "napisał", "napisała", "pisze", "napsal", "napsala", "написал", "написала",
    "пишет", "пише", "έγραψε", "yazdı", "írta", "a scris", "đã viết", "כתב", "كتب", "şunu yazdı", "şunları yazdı",
)
#: An attribution's verb: latin, Cyrillic and Greek words whole, CJK phrases anywhere.
WROTE = re.compile(rf"(?:(?<!\w)(?:{_VERBS})(?:\s*\(-?[aа]\))?(?!\w)|写道|寫道|작성|쓴 글|のメール|書きました|のメッセージ)", _I)
# How attributions start when they carry no address or time of their own ("On Mon, Jane wrote:").
_LEADS = re.compile(r"\s*(?:On|Am|Le|El|Op|Il|Em|Den|W dniu|Dne|Στις|Τη|في|在)\s", _I)
_EMAIL = re.compile(r"[^\s<>()\"',;:]+@[^\s<>()\"',;:]+\.[^\s<>()\"',;:]+")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}(?!\d)|\d{4}")
_COLON_END = re.compile(r"[:：]\s*$")


def is_attribution(text: str, *, quote_follows: bool) -> bool:
    """Whether ``text`` (one line, or a wrapped one joined back) introduces quoted history.

    It must end with a colon and either name a "wrote" verb beside a date, time or address (or after a
    lead such as "On"), or, when quoted lines follow, hold an address and a time: Gmail in Russian,
    Japanese or Czech writes ``пн, 6 янв. 2025 г. в 10:15, Name <addr>:`` with no verb at all.

    :param quote_follows: the next non-blank line is quoted (``>``).
    """
    line = text.strip().strip("*")
    if len(line) > 400 or not _COLON_END.search(line):
        return False
    if WROTE.search(line) and (_TIME.search(line) or _EMAIL.search(line) or _LEADS.match(line)):
        return True
    return quote_follows and bool(_EMAIL.search(line)) and bool(_TIME.search(line))


def attribution_head(line: str) -> bool:
    """Whether ``line`` can be the first line of an attribution the client wrapped: a lead word or a date, no full stop."""
    text = line.strip()
    return not text.endswith((".", "!", "?")) and bool(_LEADS.match(text) or _TIME.search(text))


# Outlook's header block (and Samsung's, Gmail's forward...) in each language: "From: / Sent: / To: / Subject:".
_FROM_LABELS = _words("From", "Von", "De", "Van", "Da", "Från", "Fra", "Od", "От", "Від", "差出人", "发件人", "寄件者",
                      "보낸 사람", "보낸사람", "Kimden", "Από", "Lähettäjä", "Feladó", "من", "Expéditeur")
_FIELD_LABELS = _words(
    "Sent", "Date", "To", "Cc", "Bcc", "Subject", "Gesendet", "Datum", "An", "Betreff", "Envoyé", "Envoyé le", "À",
    "Objet", "Enviado", "Enviado el", "Enviada em", "Fecha", "Para", "Asunto", "Assunto", "Verzonden", "Aan",
    "Onderwerp", "Inviato", "Data", "A", "Oggetto", "Skickat", "Till", "Kopia", "Ämne", "Sendt", "Dato", "Til", "Kopi",
    "Emne", "Wysłano", "Do", "DW", "Temat", "Odesláno", "Komu", "Kopie", "Předmět", "Отправлено", "Дата", "Кому",
    "Копия", "Тема", "送信日時", "日時", "日付", "宛先", "件名", "发送时间", "日期", "收件人", "抄送", "主题", "寄件日期",
    "收件者", "副本", "主旨", "보낸 날짜", "날짜", "받는 사람", "받는사람", "참조", "제목", "Gönderildi", "Tarih", "Kime",
    "Alıcı", "Bilgi", "Konu", "Στάλθηκε", "Ημερομηνία", "Προς", "Κοιν.", "Θέμα", "Lähetetty", "Päivämäärä",
    "Vastaanottaja", "Kopio", "Aihe", "Elküldve", "Dátum", "Címzett", "Másolatot kap", "Tárgy", "تاريخ الإرسال",
    "التاريخ", "إلى", "نسخة", "الموضوع", "Надіслано", "Тема",
)
#: The first line of a header block: "From: …" in any supported language, bold asterisks allowed.
HEADER_FROM = re.compile(rf"\s*\*?(?:{_FROM_LABELS})\*?\s*[:：]\*?\s*\S", _I)
#: Any other line of a header block.
HEADER_FIELD = re.compile(rf"\s*\*?(?:{_FIELD_LABELS})\*?\s*[:：]", _I)

_ORIGINAL_PHRASES = _words(
    "Original Message", "Original message", "Ursprüngliche Nachricht", "Original-Nachricht", "Message d'origine",
    "Mensaje original", "Oorspronkelijk bericht", "Messaggio originale", "Mensagem original", "Ursprungligt meddelande",
    "Originalmeddelande", "Oprindelig meddelelse", "Oprindelig besked", "Opprinnelig melding", "Alkuperäinen viesti",
    "Původní zpráva", "Oryginalna wiadomość", "Wiadomość oryginalna", "Исходное сообщение", "Αρχικό μήνυμα",
    "元のメッセージ", "原始邮件", "原始郵件", "원본 메시지", "Özgün İleti", "Orijinal mesaj", "Orijinal İleti",
    "Eredeti üzenet", "الرسالة الأصلية", "Вихідне повідомлення",
)
#: "-----Original Message-----" (Outlook) and "-------- Original message --------" (Samsung), localized.
ORIGINAL = re.compile(rf"\s*-{{2,}}\s*(?:{_ORIGINAL_PHRASES})\s*-{{2,}}", _I)
#: A forwarded message's opening line: what follows it is content, not history.
FORWARDED = re.compile(r"\s*(?:-{2,}\s*)?(?:" + _words(
    "Forwarded message", "Forwarded Message", "Weitergeleitete Nachricht", "Message transféré", "Mensaje reenviado",
    "Doorgestuurd bericht", "Messaggio inoltrato", "Mensagem encaminhada", "Vidarebefordrat meddelande",
    "Videresendt meddelelse", "Videresendt melding", "Välitetty viesti", "Přeposlaná zpráva", "Przekazana wiadomość",
    "Пересылаемое сообщение", "Προωθημένο μήνυμα", "転送されたメッセージ", "转发的邮件", "전달된 메시지",
    "İletilen mesaj", "رسالة محولة", "Begin forwarded message", "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié", "Inicio del mensaje reenviado",
) + ")", _I)
#: Outlook on the web's separator line before its header block.
UNDERSCORES = re.compile(r"\s*_{20,}\s*$")
#: A header-like block that Gmail's HTML renders into one run of text ("From: … Sent: … To: …").
OUTLOOK_TEXT = re.compile(rf"\*?(?:{_FROM_LABELS})\s*[:：].{{1,300}}?(?:{_FIELD_LABELS})\s*[:：]"
                          rf".{{1,300}}?(?:{_FIELD_LABELS})\s*[:：]", _I | re.S)

# The line a phone or an app appends ("Sent from my iPhone", "Get Outlook for iOS"...), localized.
_MOBILE = re.compile(
    r"\s*(?:"
    r"Sent (?:from|with|via|using) \S.{0,50}|Get Outlook for \S.{0,30}|Von meinem \S.{0,30} gesendet"
    r"|Gesendet (?:von|mit) \S.{0,40}|Outlook für \S+ beziehen\S*|Envoyé (?:de|depuis) mon \S.{0,30}"
    r"|Obtenir Outlook pour \S.{0,30}|Enviado (?:desde|do|de) (?:mi|meu|o meu) \S.{0,30}"
    r"|Obtener Outlook para \S.{0,30}|Obter o Outlook para \S.{0,30}|Inviato da(?:l mio)? \S.{0,30}"
    r"|Scarica Outlook per \S.{0,30}|(?:Verstuurd|Verzonden) (?:vanaf|met) (?:mijn )?\S.{0,30}"
    r"|Outlook voor \S+ downloaden\S*|Skickat från min \S.{0,30}|Hämta Outlook för \S.{0,30}"
    r"|Sendt fra min \S.{0,30}|(?:Få|Hent) Outlook (?:for|til) \S.{0,30}|Lähetetty \S.{0,30}"
    r"|Hanki Outlook \S.{0,30}|Wysłane z \S.{0,30}|Pobierz (?:program )?Outlook \S.{0,40}"
    r"|Odesláno z \S.{0,30}|Stáhněte si Outlook \S.{0,30}|Отправлено с \S.{0,40}|Получить Outlook для \S.{0,30}"
    r"|Στάλθηκε από \S.{0,30}|Λήψη του Outlook \S.{0,30}|\S.{0,20}から送信(?:されました)?"
    r"|iOS 版 Outlook を入手\S*|发自我的\s?\S.{0,20}|从我的\s?\S.{0,20}发送|從我的\s?\S.{0,20}傳送"
    r"|获取 Outlook \S.{0,30}|\S.{0,20}에서 보냄|iOS용 Outlook 받기\S*|\S.{0,30} gönderildi"
    r"|iOS için Outlook'u edinin\S*|أرسلت من \S.{0,30}|تم الإرسال من \S.{0,30}|الحصول على Outlook \S.{0,30}"
    r")\s*$", _I)

# Closing formulas that open a signature ("Best regards,", "Mit freundlichen Grüßen"...), whole line.
_SIGN_OFFS = _words(
    "thanks", "thank you", "many thanks", "thanks again", "thanks so much", "thx", "cheers", "best", "best wishes",
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "warmly", "sincerely",
    "yours", "yours truly", "yours sincerely", "all the best", "take care", "br",
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "viele grüße", "beste grüße",
    "liebe grüße", "herzliche grüße", "schöne grüße", "grüße", "gruß", "mfg", "lg", "danke", "vielen dank",
    "cordialement", "bien cordialement", "bien à vous", "merci", "merci beaucoup", "à bientôt", "amicalement",
    "bises", "salutations", "sincères salutations", "bonne journée",
    "saludos", "un saludo", "saludos cordiales", "atentamente", "gracias", "muchas gracias", "un abrazo",
    "cordialmente", "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "groeten",
    "groetjes", "hartelijke groet", "mvg", "bedankt", "med vänliga hälsningar", "vänliga hälsningar", "hälsningar",
    "mvh", "tack", "kram", "med venlig hilsen", "venlig hilsen", "med vennlig hilsen", "vennlig hilsen", "hilsen",
    "tak", "takk", "ystävällisin terveisin", "terveisin", "kiitos", "cordiali saluti", "distinti saluti", "saluti",
    "un saluto", "grazie", "a presto", "atenciosamente", "abraços", "abraço", "obrigado", "obrigada", "cumprimentos",
    "saudações", "pozdrawiam", "z poważaniem", "serdecznie pozdrawiam", "dziękuję", "s pozdravem", "děkuji", "díky",
    "с уважением", "спасибо", "всего доброго", "с наилучшими пожеланиями", "με εκτίμηση", "ευχαριστώ", "φιλικά",
    "よろしくお願いいたします", "よろしくお願いします", "以上、よろしくお願いします", "以上、よろしくお願いいたします",
    "此致", "此致敬礼", "谢谢", "祝好", "감사합니다", "saygılarımla", "teşekkürler", "iyi çalışmalar", "مع تحياتي",
    "شكرا", "مع خالص التحيات", "üdvözlettel", "köszönöm",
)
_SIGN_OFF = re.compile(rf"\s*(?:{_SIGN_OFFS})\s*[,.!。،！]*\s*$", _I)


def is_mobile_signature(line: str) -> bool:
    """Whether ``line`` is the line a phone or mail app appends ("Sent from my iPhone", "Von meinem iPhone gesendet")."""
    return len(line) <= 80 and _MOBILE.match(line) is not None


def is_sign_off(line: str) -> bool:
    """Whether ``line`` is a closing formula on its own ("Thanks,", "Mit freundlichen Grüßen", "С уважением,")."""
    return len(line) <= 60 and _SIGN_OFF.match(line) is not None
