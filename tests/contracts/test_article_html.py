"""The one allow-list for article HTML, applied on write, on the phone page and for the screens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.contracts import article_html

ATTACK = (
    '<p onclick="x()">正文 <a href="javascript:alert(1)">链接</a> <a href="https://kepu.example.cn/a">好</a>'
    '<img src="http://plain.example/x.png"><img src="https://cdn.example/y.png" alt="图"><script>x()</script>'
    "<table><tr><td>表</td></tr></table><!-- c --></p>"
)


def test_stored_keeps_the_allow_list_and_drops_the_rest():
    out = article_html.stored(ATTACK)
    assert "<p>正文" in out and "onclick" not in out and "javascript" not in out and "<script" not in out
    assert '<a href="https://kepu.example.cn/a" rel="noopener noreferrer">好</a>' in out
    assert 'src="https://cdn.example/y.png"' in out and "http://plain.example" not in out  # https images only
    assert "<table" not in out and "<!--" not in out


def test_page_adds_nofollow_and_screen_shows_text_only():
    stored = article_html.stored(ATTACK)
    assert 'rel="noopener noreferrer nofollow"' in article_html.page(stored)
    on_screen = article_html.screen(stored)
    assert "<p>正文" in on_screen and "<a" not in on_screen and "<img" not in on_screen


def test_plain_text_drops_every_tag_and_decodes_entities():
    assert article_html.plain_text("本周六<b>上午</b> &amp; 9点<script>x()</script>") == "本周六上午 & 9点"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' apbrimgscrht:&;#x1中")), max_size=60))
def test_every_form_is_a_fixed_point_of_the_stored_one(value):
    """What was saved needs nothing more removed by the page, nor by the screen a second time."""
    stored = article_html.stored(value)
    assert article_html.stored(stored) == stored
    assert article_html.screen(article_html.screen(stored)) == article_html.screen(stored)
