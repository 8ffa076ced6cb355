"""mailgun_mock.mail.quotes: quoted-history and signature removal, and HTML rendered as text."""

from __future__ import annotations

import html.parser
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.mail import html_scan
from mailgun_mock.mail.html_text import html_to_text
from mailgun_mock.mail.quotes import strip_html, strip_text

# The captured Mailgun route-tester payload (django-inbound-email's mailgun_post.py): body-plain in,
# stripped-text and stripped-signature as Mailgun posted them.
MAILGUN_BODY_PLAIN = ("Hi Alice,\n\nThis is Bob.\n\nI also attached a file.\n\nThanks,\nBob\n\n"
                      "On 04/26/2013 11:29 AM, Alice wrote:\n> Hi Bob,\n>\n> This is Alice. How are you doing?\n"
                      ">\n> Thanks,\n> Alice\n\n")


# --- strip_text: quoted history ------------------------------------------------------------------

def test_strip_text_matches_mailgun_captured_payload() -> None:
    """Mailgun's own sample reply strips to its posted stripped-text and stripped-signature."""
    assert strip_text(MAILGUN_BODY_PLAIN) == ("Hi Alice,\n\nThis is Bob.\n\nI also attached a file.", "Thanks,\nBob")


def test_strip_text_gmail_attribution_and_quote() -> None:
    """Gmail's "On <date> <name> wrote:" line and the quote below it are removed."""
    text = "Yes, 3pm works.\n\nOn Mon, Jan 6, 2025 at 10:15 AM Alice Smith <alice@example.com> wrote:\n\n> Meet at 3?\n"
    assert strip_text(text) == ("Yes, 3pm works.", "")


def test_strip_text_gmail_attribution_wrapped_over_two_lines() -> None:
    """An attribution that Gmail wrapped onto two lines is still recognised."""
    text = "Yes.\n\nOn Mon, Jan 6, 2025 at 10:15 AM Alice Smith <\nalice@example.com> wrote:\n\n> Meet?\n"
    assert strip_text(text) == ("Yes.", "")


def test_strip_text_apple_mail_reply_with_mobile_signature() -> None:
    """Apple Mail's quoted "On ... at ..., X wrote:" history goes and "Sent from my iPhone" is the signature."""
    text = ("Great!\n\nSent from my iPhone\n\n"
            "> On Jan 6, 2025, at 10:15, Alice <alice@example.com> wrote:\n>\n> Lunch?\n")
    assert strip_text(text) == ("Great!", "Sent from my iPhone")


def test_strip_text_outlook_original_message_separator() -> None:
    """Everything from Outlook's "-----Original Message-----" line on is history."""
    text = ("Approved.\n\n-----Original Message-----\nFrom: Dave <dave@example.com>\nSent: Monday\n"
            "Subject: Budget\n\nOK?")
    assert strip_text(text) == ("Approved.", "")


def test_strip_text_outlook_from_sent_header_block() -> None:
    """An Outlook "From: / Sent: / To: / Subject:" block starts the history."""
    text = ("Fine by me.\n\nFrom: Dave <dave@example.com>\nSent: Monday, January 6, 2025 10:00 AM\nTo: Carol\n"
            "Subject: Budget\n\nPlease approve.\n")
    assert strip_text(text) == ("Fine by me.", "")


def test_strip_text_outlook_underscore_separator_and_get_outlook_signature() -> None:
    """Outlook mobile's underscore line before "From:" cuts, and "Get Outlook for iOS" is a signature."""
    text = ("Fine by me.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\n"
            "From: Dave <dave@example.com>\nSent: Monday\nTo: Carol\nSubject: Budget\n\nPlease approve.\n")
    assert strip_text(text) == ("Fine by me.", "Get Outlook for iOS<https://aka.ms/o0ukef>")


def test_strip_text_german_french_spanish_attributions() -> None:
    """German "Am ... schrieb ...:", French "Le ... a écrit :" and Spanish "El ... escribió:" start the history."""
    assert strip_text("Passt.\n\nAm 06.01.2025 um 10:15 schrieb Alice <alice@example.com>:\n> Mittag?\n")[0] == "Passt."
    assert strip_text("D'accord.\n\nLe lun. 6 janv. 2025 à 10:15, Alice <a@example.com> a écrit :\n> Oui ?\n")[0] == \
        "D'accord."
    spanish = "Vale.\n\nEl lun, 6 ene 2025 a las 10:15, Alice (<a@example.com>) escribió:\n> ¿Comemos?\n"
    assert strip_text(spanish)[0] == "Vale."


def test_strip_text_trailing_quote_with_short_intro_line() -> None:
    """A trailing ">" block and an intro line like "Alice wrote:" before it are removed."""
    assert strip_text("Reply here.\n\nAlice wrote:\n> quoted\n> more\n") == ("Reply here.", "")


def test_strip_text_trailing_quote_without_intro() -> None:
    """A trailing ">" block with no attribution is removed on its own."""
    assert strip_text("Reply here.\nSecond line.\n\n> quoted\n") == ("Reply here.\nSecond line.", "")


def test_strip_text_keeps_inline_replies() -> None:
    """Answers interleaved with quoted lines are content, so nothing is removed."""
    text = "> Question one?\nAnswer one.\n> Question two?\nAnswer two."
    assert strip_text(text) == (text, "")


def test_strip_text_keeps_inline_reply_under_attribution() -> None:
    """An attribution followed by interleaved quotes and answers (mailing-list style) is kept."""
    text = "On Mon, Jane wrote:\n> Drop 3.8?\n\nAgreed.\n\n> And PyPy?\n\nYes, also PyPy."
    assert strip_text(text) == (text, "")


def test_strip_text_keeps_forwarded_message() -> None:
    """A forwarded message's header block is content, not reply history."""
    text = "FYI\n\n---------- Forwarded message ---------\nFrom: Alice <a@example.com>\nDate: Mon\nSubject: hi\n" \
           "To: Bob\n\nOriginal text"
    assert strip_text(text) == (text, "")


def test_strip_text_wrote_in_the_middle_of_a_sentence_is_content() -> None:
    """A line that merely mentions writing is not an attribution."""
    text = "On Monday the team wrote: a report about costs.\nPlease read it."
    assert strip_text(text) == (text, "")


def test_strip_text_handles_crlf() -> None:
    """CRLF input strips the same way as LF input."""
    assert strip_text("Yes.\r\n\r\nOn Mon, Jan 6, 2025 Alice wrote:\r\n> q\r\n") == ("Yes.", "")


# --- strip_text: signatures ----------------------------------------------------------------------

def test_strip_text_dash_dash_space_signature() -> None:
    """Everything after a "-- " line is the signature, delimiter included."""
    assert strip_text("Here is the report.\n\n-- \nBob Builder\nACME Corp\n") == \
        ("Here is the report.", "-- \nBob Builder\nACME Corp")


def test_strip_text_sign_off_before_delimiter_joins_signature() -> None:
    """A "Thanks,\\nAlice" closing just before "-- " belongs to the signature, as Mailgun posts it."""
    assert strip_text("Please reissue.\n\nThanks,\nAlice\n\n-- \nAlice Nguyen\nStudio\n") == \
        ("Please reissue.", "Thanks,\nAlice\n\n-- \nAlice Nguyen\nStudio")


def test_strip_text_sign_off_with_title_lines() -> None:
    """A sign-off followed by name, title, company and phone lines is the signature."""
    text = "Please send it.\n\nBest regards,\nBob Smith\nSite Manager | Example Construction Ltd.\n+1 555 123 4567"
    assert strip_text(text) == ("Please send it.", text.split("\n\n", 1)[1])


def test_strip_text_lone_sign_off_line() -> None:
    """A closing "Thanks!" as the last line is taken as the signature."""
    assert strip_text("Please send it.\n\nThanks!") == ("Please send it.", "Thanks!")


def test_strip_text_sign_off_followed_by_prose_is_kept() -> None:
    """A "Thanks" line followed by a real sentence is content, not a signature."""
    text = "Got it.\n\nThanks\nI will be out of the office next week though, so expect delays."
    assert strip_text(text) == (text, "")


def test_strip_text_thanks_sentence_is_not_a_signature() -> None:
    """ "Thanks, that works." is a sentence, not a sign-off."""
    text = "Hi team,\n\nThanks, that works.\nThe meeting moves to 3pm."
    assert strip_text(text) == (text, "")


def test_strip_text_signature_never_swallows_the_whole_message() -> None:
    """A message that is only a sign-off and a name keeps its text."""
    assert strip_text("Thanks,\nBob") == ("Thanks,\nBob", "")


def test_strip_text_hyphen_list_is_content() -> None:
    """A "- item" list is not mistaken for a signature."""
    assert strip_text("Plan:\n- buy milk\n- call Bob\n\nCheers") == ("Plan:\n- buy milk\n- call Bob", "Cheers")


def test_strip_text_keeps_indentation() -> None:
    """Indented lines (code, addresses) keep their leading whitespace."""
    text = "Address:\n    14 Old Mill Lane\n    Springfield"
    assert strip_text(text) == (text, "")


# --- strip_html ----------------------------------------------------------------------------------

def test_strip_html_gmail_quote() -> None:
    """Gmail's gmail_quote div, attribution included, is removed and the rest kept byte for byte."""
    html = ('<div dir="ltr">Reply <b>here</b></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            'On Mon, Alice &lt;<a href="mailto:a@x.com">a@x.com</a>&gt; wrote:<br></div>'
            '<blockquote class="gmail_quote" style="margin:0">old</blockquote></div>')
    assert strip_html(html) == '<div dir="ltr">Reply <b>here</b></div><br>'


def test_strip_html_apple_blockquote_and_attribution() -> None:
    """Apple Mail's blockquote type=cite goes, with the "On ..., X wrote:" line before it."""
    html = ('<html><body><div>Great!</div><div><br><div>On Jan 6, 2025, at 10:15, Alice &lt;<a href="mailto:a@x.com">'
            'a@x.com</a>&gt; wrote:</div><br class="Apple-interchange-newline"><blockquote type="cite">'
            '<div>Lunch?</div></blockquote></div></body></html>')
    assert strip_html(html) == '<html><body><div>Great!</div><div><br><div></div></div></body></html>'


def test_strip_html_thunderbird_mailgun_sample() -> None:
    """Thunderbird's attribution inside moz-cite-prefix is dropped, the sign-off stays (as in Mailgun's payload)."""
    html = ('<body><div class="moz-cite-prefix"><div>Thanks,</div><div>Bob</div>\n<br>\n'
            'On 04/26/2013 11:29 AM, Alice wrote:<br>\n</div>\n<blockquote type="cite">Hi Bob,<br></blockquote>\n'
            '<br>\n</body>')
    assert strip_html(html) == ('<body><div class="moz-cite-prefix"><div>Thanks,</div><div>Bob</div>\n<br></div>'
                                '\n<br>\n</body>')


def test_strip_html_outlook_web_reply() -> None:
    """Outlook's divRplyFwdMsg, the <hr> before it and the quoted body after it are cut to the end of the parent."""
    html = ('<html><body><div dir="ltr">Fine by me.</div><hr style="display:inline-block;width:98%" tabindex="-1">'
            '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Dave<br><b>Sent:</b> Monday</div>'
            '<div>Please approve.</div></body></html>')
    assert strip_html(html) == '<html><body><div dir="ltr">Fine by me.</div></body></html>'


def test_strip_html_outlook_desktop_bordered_header() -> None:
    """Outlook desktop's bordered "From:/Sent:" div, and its bare wrapper, start the history."""
    html = ('<body><div class="WordSection1"><p class="MsoNormal">Approved.</p><div><div style="border:none;'
            'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in"><p class="MsoNormal"><b>From:</b> Dave<br>'
            '<b>Sent:</b> Monday</p></div></div><p class="MsoNormal">Please approve.</p></div></body>')
    assert strip_html(html) == '<body><div class="WordSection1"><p class="MsoNormal">Approved.</p></div></body>'


def test_strip_html_outlook_text_header_block_without_markers() -> None:
    """A block reading "From: ... Sent: ... To: ..." starts the history even without Outlook's ids or styles."""
    html = '<body><p>OK.</p><p>From: Dave<br>Sent: Monday<br>To: Carol<br>Subject: x</p><p>old</p></body>'
    assert strip_html(html) == "<body><p>OK.</p></body>"


def test_strip_html_generic_blockquote() -> None:
    """A plain <blockquote> is treated as quoted history."""
    assert strip_html("<p>Mine</p><blockquote><p>Theirs</p></blockquote><p>After</p>") == "<p>Mine</p><p>After</p>"


def test_strip_html_unclosed_blockquote_keeps_closing_tags() -> None:
    """An unclosed blockquote is removed to the end while the document's closing tags survive."""
    assert strip_html("<html><body><p>Mine</p><blockquote>old<p>older</body></html>") == \
        "<html><body><p>Mine</p></body></html>"


def test_strip_html_without_quotes_is_identity() -> None:
    """HTML with no quote markers comes back exactly as it went in."""
    html = '<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><p class=x>Hi &amp; bye</P></body>'
    assert strip_html(html) == html


def test_strip_html_keeps_signature() -> None:
    """stripped-html removes only quotes: a Gmail signature stays."""
    html = '<div>Hi</div><div class="gmail_signature">Bob</div><div class="gmail_quote">old</div>'
    assert strip_html(html) == '<div>Hi</div><div class="gmail_signature">Bob</div>'


# --- html_to_text --------------------------------------------------------------------------------

def test_html_to_text_blocks_breaks_and_entities() -> None:
    """Paragraphs become blank-line separated, <br> and <div> a newline, entities are decoded."""
    assert html_to_text("<p>Caf&eacute; &amp; bar</p><p>one<br>two</p><div>three</div><div>four</div>") == \
        "Café & bar\n\none\ntwo\n\nthree\nfour"


def test_html_to_text_drops_scripts_styles_and_head() -> None:
    """Script, style and head content never reaches the text."""
    assert html_to_text("<html><head><title>T</title><style>p{}</style></head><body>Hi<script>x()</script>"
                        "</body></html>") == "Hi"


def test_html_to_text_links_keep_their_target() -> None:
    """A link shows its URL after the text, unless the text already is the URL."""
    html = '<a href="https://example.com/t">View task</a> or <a href="https://x.org">https://x.org</a>'
    assert html_to_text(html) == "View task <https://example.com/t> or https://x.org"


def test_html_to_text_lists_quotes_and_pre() -> None:
    """List items get dashes, blockquotes a ">" prefix, and <pre> keeps its spacing."""
    html = "<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote><pre>a   b\n  c</pre>"
    assert html_to_text(html) == "- one\n- two\n\n> quoted\n\na   b\n  c"


def test_html_to_text_collapses_whitespace() -> None:
    """Source newlines and runs of spaces collapse to single spaces."""
    assert html_to_text("<p>Hello\n   <b>big</b>\n world</p>") == "Hello big world"


# --- robustness ----------------------------------------------------------------------------------

MARKERS = st.sampled_from(["<blockquote>", "</blockquote>", '<div class="gmail_quote">', "</div>", "<br>", "<hr>",
                           '<div id="divRplyFwdMsg">', "From: a", "Sent: b", "To: c", "On Mon, X wrote:", "-- ",
                           "&lt;", "<a href='mailto:x'>", "</a>", "<p>", "\n", "> q", "Thanks,", "<!--", "<"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKERS, st.text(max_size=20)), max_size=40))
def test_stripping_never_raises(pieces: list[str]) -> None:
    """Every function returns strings for arbitrary marker soup, and stripping HTML never adds text."""
    source = "".join(pieces)
    text, signature = strip_text(source)
    assert isinstance(text, str) and isinstance(signature, str)
    assert isinstance(html_to_text(source), str)
    assert len(strip_html(source)) <= len(source)


# --- the tokenizer against html.parser -----------------------------------------------------------
# strip_html's tokenizer reimplements html.parser's tokenization for speed. This is the
# HTMLParser-based tokenizer it replaced, kept as the reference: both must report the same tokens
# (kind, tag, offset, and the attributes strip_html reads), since strip_html's rules count tokens.

class _ReferenceTokenizer(HTMLParser):
    """Record (kind, tag, attrs, offset) for every token html.parser reports."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[tuple[str, str, dict[str, str], int]] = []
        self._lines = [0] + [m.end() for m in re.finditer("\n", source)]

    def _add(self, kind: str, tag: str = "", attrs: list[tuple[str, str | None]] | None = None) -> None:
        line, col = self.getpos()
        self.tokens.append((kind, tag, {k: v or "" for k, v in attrs or ()}, self._lines[line - 1] + col))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("start", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("startend", tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._add("end", tag)

    def handle_data(self, data: str) -> None:
        self._add("data")

    def handle_entityref(self, name: str) -> None:
        self._add("data")

    def handle_charref(self, name: str) -> None:
        self._add("data")

    def handle_comment(self, data: str) -> None:
        self._add("other")

    def handle_decl(self, decl: str) -> None:
        self._add("other")

    def handle_pi(self, data: str) -> None:
        self._add("other")

    def unknown_decl(self, data: str) -> None:
        self._add("other")


def _reference_tokens(source: str) -> list[tuple[str, str, dict[str, str], int]] | None:
    """html.parser's tokens for ``source``, attributes kept only where strip_html reads them; None if it raises."""
    parser = _ReferenceTokenizer(source)
    try:
        parser.feed(source)
        parser.close()
    except AssertionError:
        return None
    return [(kind, tag, attrs if tag in html_scan.ATTR_TAGS else {}, start) for kind, tag, attrs, start in parser.tokens]


def _new_tokens(source: str) -> list[tuple[str, str, dict[str, str], int]] | None:
    try:
        tokens = html_scan.tokenize(source)
    except AssertionError:
        return None
    return [(t.kind, t.tag, t.attrs, t.start) for t in tokens]


# The copied regexes must still be the interpreter's, or html.parser is no longer the reference.
_SAME_STDLIB = (html_scan._STARTTAG_END.pattern == html.parser.locatestarttagend_tolerant.pattern
                and html_scan._ATTRFIND.pattern == html.parser.attrfind_tolerant.pattern
                and html_scan._COMMENT_CLOSE.pattern == html.parser.commentclose.pattern
                and html_scan._ENDTAGFIND.pattern == html.parser.endtagfind.pattern)

SOUP = st.sampled_from([
    "<blockquote>", "</blockquote>", '<blockquote type="cite">', "<BLOCKQUOTE TYPE=cite>", '<div class="gmail_quote">',
    "<div class='gmail_quote x'>", '<DIV CLASS="yahoo_quoted">', "</div>", "</DIV >", "<div>", "<br>", "<br/>",
    "<br />", "<hr>", '<div id="divRplyFwdMsg">', "<div id=appendonsend>", '<p style="border-top:solid #E1E1E1 1pt">',
    "<p>", "</p>", "<b>", "</b>", "<a href='mailto:x'>", "</a>", "<span title=\"a>b\">", "<div title='x\"y'>",
    "<img alt=a>b>", "<a href=x/>", "<p a b=c d='e' f=\"g\" h>", "<a  b = c >", "<a b==c>", "<a/b>", "<a\x0bb=c>",
    "<!-- c -->", "<!-- > -->", "<!--", "-->", "<![CDATA[x<y]]>", "<![if x]>", "<![endif]>", "<![bogus x]>", "<![",
    "<!DOCTYPE html>", "<!x>", "<?pi?>", "<script>a<b</script>", "<style>p>q{}</STYLE >", "<script>", "</script>",
    "&lt;", "&amp", "&nbsp;", "&#160;", "&#x41;", "&#", "&#x;", "&a", "&", "<", ">", "</", "</>", "</ p>", "</a b>",
    "</1>", "<1>", "From: a", "Sent: b", "To: c", "-----Original Message-----", "On Mon, X wrote:", "\n", " ", "x",
])


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(SOUP, st.text(alphabet="<>/=\"'&;#!-abdivpDIV \n\x0b", max_size=8)), max_size=30))
def test_tokenizer_matches_html_parser(pieces: list[str]) -> None:
    """The regex tokenizer reports exactly html.parser's tokens (offsets, tags, read attributes, failures)."""
    if not _SAME_STDLIB:
        pytest.skip("this interpreter's html.parser differs from the grammar stripping.py copies")
    source = "".join(pieces)
    assert _new_tokens(source) == _reference_tokens(source)


# --- strip_text: shapes from issue #17 ---------------------------------------------------------------

def test_strip_text_quote_followed_by_signature_is_still_a_quote() -> None:
    """Thunderbird's attribution and quote with the "-- " signature below it: the quote goes, the signature stays."""
    text = "Yes, Friday.\n\nOn 06/01/2025 10:15, Alice Smith wrote:\n> Lunch?\n> Alice\n\n-- \nBob Builder\nACME"
    assert strip_text(text) == ("Yes, Friday.", "-- \nBob Builder\nACME")


def test_strip_text_quote_followed_by_list_footer_keeps_the_footer() -> None:
    """A list footer under the quote is not quoted history: it stays in the text, as talon keeps it."""
    text = ("Merged.\n\nOn Mon, Jan 6, 2025 at 10:15 AM Alice <a@example.com> wrote:\n> Please merge.\n\n"
            "_______________________________________________\ndev mailing list\n")
    assert strip_text(text) == ("Merged.\n\n_______________________________________________\ndev mailing list", "")


def test_strip_text_bottom_post_keeps_the_reply_below_the_quote() -> None:
    """A reply written below an attributed quote keeps the reply and drops the quote."""
    text = "On 06/01/2025 10:15, Alice Smith wrote:\n> Lunch?\n\nYes, Friday works.\n\n-- \nBob"
    assert strip_text(text) == ("Yes, Friday works.", "-- \nBob")


def test_strip_text_android_original_message_block() -> None:
    """Samsung's "-------- Original message --------" block (any language) and what follows it is history."""
    text = ("Oui.\n\nEnvoyé depuis mon Galaxy\n\n\n-------- Message d'origine --------\nDe : Alice <a@example.com> \n"
            "Date : 06/01/2025 10:15 (GMT+01:00) \nÀ : Bob <b@example.com> \nObjet : Déjeuner \n\nDéjeuner ?\n")
    assert strip_text(text) == ("Oui.", "Envoyé depuis mon Galaxy")


def test_strip_text_gmail_attribution_without_a_verb() -> None:
    """Gmail's Russian and Japanese attributions have no "wrote": a dated line with an address above a quote counts."""
    assert strip_text("Да.\n\nпн, 6 янв. 2025 г. в 10:15, Ольга <olga@example.ru>:\n\n> Обед?\n") == ("Да.", "")
    assert strip_text("はい。\n\n2025年1月6日(月) 10:15 山田 <y@example.jp>:\n\n> ランチ？\n") == ("はい。", "")


def test_strip_text_localized_outlook_header_block() -> None:
    """An Italian Outlook "Da: / Inviato: / A: / Oggetto:" block starts the history."""
    text = "Va bene.\n\nDa: Giulia <g@example.it>\nInviato: lunedì 6 gennaio 2025 10:15\nA: Marco\nOggetto: Pranzo\n\nPranzo?"
    assert strip_text(text) == ("Va bene.", "")


def test_strip_text_localized_sign_off_is_the_signature() -> None:
    """A German closing formula and the name under it are the signature, like "Best regards,"."""
    assert strip_text("Passt.\n\nMit freundlichen Grüßen\nJonas Becker") == ("Passt.", "Mit freundlichen Grüßen\nJonas Becker")
