"""Fill msgstr in a .po file from a JSON dictionary (msgid -> translation); keeps existing translations.

usage: python scripts/po_fill.py locale/ru/LC_MESSAGES/django.po locale/ru/translations.json
Translations live in a reviewable JSON file beside the catalogue; makemessages regenerates the .po.
"""
import json
import re
import sys


def _unquote(lines):
    return "".join(json.loads(line) for line in lines)


def _quote(text):
    return json.dumps(text, ensure_ascii=False)


def main(po_path, dict_path):
    translations = json.load(open(dict_path, encoding="utf-8"))
    text = open(po_path, encoding="utf-8").read()
    blocks = text.split("\n\n")
    out, missing = [], []
    for block in blocks:
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if m:
            msgid = _unquote(re.findall(r'".*"', m.group(1)))
            msgstr = _unquote(re.findall(r'".*"', m.group(2)))
            # A fuzzy entry is makemessages' guess from a similar msgid: gettext never shows it, so it is
            # as untranslated as an empty one, and the dictionary's translation replaces it.
            fuzzy = re.search(r"^#,.*\bfuzzy\b", block, re.M) is not None
            if msgid and (not msgstr or fuzzy):
                if msgid in translations:
                    block = block[:m.start(2)] + _quote(translations[msgid]) + ("\n" if m.group(2).endswith("\n") else "")
                    block = re.sub(r"^(#,.*?)(, )?\bfuzzy\b(, )?", lambda f: f.group(1) + (", " if f.group(2) and f.group(3) else ""),
                                   block, flags=re.M)
                    block = re.sub(r"^#,\s*\n", "", block, flags=re.M)
                    block = re.sub(r"^#\| .*\n", "", block, flags=re.M)
                else:
                    missing.append(msgid)
        out.append(block)
    open(po_path, "w", encoding="utf-8").write("\n\n".join(out))
    for msgid in missing:
        print("untranslated:", msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
