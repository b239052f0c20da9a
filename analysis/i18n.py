"""The words of ``ccsim negotiate`` in the reader's language: one gettext message catalogue.

The catalogue's source is ``analysis/locale/<lang>/LC_MESSAGES/ccsim.po``; the compiled
``ccsim.mo`` beside it is committed (a fresh clone needs no compile step) and a test checks it
is the ``.po`` compiled (``python -m analysis.i18n`` compiles it again, with Babel, a
development dependency). English is the messages themselves (no catalogue).

Numbers: every number is formatted once, in English (Python's format specification, so the
digits are the same in every language), and then written in the language's way
(:func:`localise`): in Bokmål a decimal comma and a no-break space between thousands, as the
Unicode CLDR data (Babel's ``format_decimal``) write them; a test checks the two agree.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

#: the languages the page is written in: English (the default) and Norwegian Bokmål
LANGS = ("en", "nb")
DOMAIN = "ccsim"
LOCALEDIR = Path(__file__).resolve().parent / "locale"

_current: ContextVar[str] = ContextVar("ccsim_language", default="en")


def check(lang: str) -> str:
    """``lang`` if it is a language of :data:`LANGS`, else a ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"--lang {lang!r}: allowed are {', '.join(LANGS)} (English, "
                         "Norwegian Bokmål)")
    return lang


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Within the block, :func:`_`, :func:`ngettext` and :func:`num` speak ``lang``."""
    token = _current.set(check(lang))
    try:
        yield lang
    finally:
        _current.reset(token)


def current() -> str:
    """The language in force (``en`` outside any :func:`language` block)."""
    return _current.get()


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the messages themselves)."""
    if check(lang) == "en":
        return gettext.NullTranslations()
    mo = LOCALEDIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise FileNotFoundError(f"--lang {lang}: the message catalogue {mo} is missing; "
                                "compile it with `python -m analysis.i18n`")
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)


def _(message: str) -> str:
    """``message`` in the language in force."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for ``n``, in the language in force."""
    return translations(current()).ngettext(singular, plural, n)


#: English number characters to Bokmål's (CLDR nb: decimal comma, no-break space grouping)
_NB = str.maketrans({",": "\u00a0", ".": ","})


def localise(number: str, lang: str | None = None) -> str:
    """A number written the English way (``-1,234.5``) in the language's way."""
    return number.translate(_NB) if (lang or current()) == "nb" else number


def num(value: float, spec: str) -> str:
    """``format(value, spec)`` in the language in force (``num(1234.5, ',.1f')``)."""
    return localise(format(value, spec))


def pct(value: float, spec: str) -> str:
    """A per cent figure already multiplied by 100: ``12.5%``, in Bokmål ``12,5 %``."""
    return num(value, spec) + ("\u00a0%" if current() == "nb" else "%")


def compile_catalogues() -> list[Path]:
    """Compile every ``.po`` under :data:`LOCALEDIR` to its ``.mo`` (needs Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = []
    for po in sorted(LOCALEDIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog)
        out.append(mo)
    translations.cache_clear()
    return out


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path}")
