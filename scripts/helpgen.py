#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Man pages and shell completion from the help text of a built ctrwatch.

    helpgen.py man  BINARY OUTDIR [--date YYYY-MM-DD]   ctrwatch.1, ctrwatch-CMD.1
    helpgen.py bash BINARY FILE                         bash completion
    helpgen.py zsh  BINARY FILE                         zsh completion
    helpgen.py commands BINARY                          NAME<TAB>SUMMARY lines

`ctrwatch --help` lists the commands; `ctrwatch CMD --help` is each page,
turned into man(7) roff: the Usage lines become SYNOPSIS, the text before the
first heading DESCRIPTION, each `Heading:` line a section, option and command
lists (an indented term, two spaces, its text) tagged paragraphs, examples and
other indented blocks verbatim.  The completions take the commands, their
options and what their Usage lines say they operate on (CONTAINER, IMAGE)
from the same text.  Nothing is written by hand, so the pages and completions
say what `--help` says.
"""
import os
import re
import subprocess
import sys

HEADING = re.compile(r"^([A-Z][A-Za-z0-9 ()/,.'_-]*):$")
ITEM = re.compile(r"^(\s+)(\S(?:\S| (?! ))*)(?:\s{2,}(\S.*))?$")


def helptext(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True)
    text = r.stdout or r.stderr
    if not text.startswith("Usage:"):
        raise SystemExit(f"helpgen: `{binary} {' '.join(args)} --help` printed no usage")
    return text


def commands(binary):
    """[(name, summary)] from the Commands: section of `ctrwatch --help`."""
    out, inside = [], False
    for line in helptext(binary).splitlines():
        if line == "Commands:":
            inside = True
        elif inside and line and not line.startswith(" "):
            break
        elif inside:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s{2,}(\S.*)$", line)
            if m:
                out.append((m.group(1), m.group(2)))
    if not out:
        raise SystemExit("helpgen: no Commands: section in `ctrwatch --help`")
    return out


# ---- help text -> structure ----

def parse(text):
    """(usage lines, [(section, [blocks])]); a block is a list of lines."""
    lines = text.rstrip("\n").splitlines()
    usage = []
    i = 0
    while i < len(lines) and lines[i].strip():
        usage.append(re.sub(r"^(Usage:)?\s*", "", lines[i]))
        i += 1
    sections = [("DESCRIPTION", [])]
    block = []

    def flush():
        if block:
            sections[-1][1].append(list(block))
            block.clear()

    for line in lines[i:]:
        if not line.strip():
            flush()
            continue
        m = HEADING.match(line)
        if m and not block:
            sections.append((m.group(1).upper(), []))
            continue
        block.append(line)
    flush()
    return usage, [(name, blocks) for name, blocks in sections if blocks]


def is_item_list(block):
    first = block[0]
    if not first.startswith(" "):
        return False
    m = ITEM.match(first)
    return bool(m) and (m.group(2).startswith("-") or m.group(3) is not None)


def items(block):
    """[(term, description lines)] of an indented list.  A line indented
    less than the descriptions' column starts an item (long options are
    often indented more than short ones); the others continue one."""
    first = len(block[0]) - len(block[0].lstrip())
    col = None
    for line in block:
        m = ITEM.match(line)
        if m and m.group(3) is not None and len(m.group(1)) < first + 6:
            col = line.index(m.group(3), len(m.group(1)) + len(m.group(2)))
            break
    threshold = col - 2 if col else first + 5
    out = []
    for line in block:
        here = len(line) - len(line.lstrip())
        m = ITEM.match(line)
        if here < threshold and m:
            out.append((m.group(2), [m.group(3)] if m.group(3) else []))
        elif out:
            out[-1][1].append(line.strip())
        else:
            out.append((line.strip(), []))
    return out


# ---- roff ----

def esc(s):
    return s.replace("\\", "\\e")


def line_safe(s):
    return "\\&" + s if s[:1] in (".", "'") else s


def prose(s):
    """Running text: `code` in bold, options with unbreakable minus signs."""
    s = esc(s)
    s = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", lambda m: m.group(0).replace("-", "\\-"), s)
    return re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1).replace("\\-", "-").replace(
        "-", "\\-") + "\\fR", s)


def term(s):
    """An option or command term: the flags bold, their arguments italic."""
    out = []
    for tok in re.split(r"(\s+|, )", s):
        if tok.startswith("-"):
            flag, eq, arg = tok.partition("=")
            out.append("\\fB" + esc(flag).replace("-", "\\-") + "\\fR" +
                       (eq + "\\fI" + esc(arg) + "\\fR" if eq else ""))
        elif re.fullmatch(r"[A-Z][A-Z0-9_|.\[\]-]*", tok):
            out.append("\\fI" + esc(tok) + "\\fR")
        else:
            out.append(esc(tok))
    return "".join(out)


def verbatim(lines):
    strip = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
    out = [".PP", ".RS 2", ".nf"]
    out += [line_safe(esc(x[strip:]).replace("-", "\\-")) for x in lines]
    out += [".fi", ".RE"]
    return out


def paragraph(lines):
    """Lines at the margin are running text; indented runs are verbatim."""
    out, run = [], []
    for x in lines + [None]:
        kind = None if x is None else x.startswith(" ")
        if run and (x is None or kind != run[0].startswith(" ")):
            if run[0].startswith(" "):
                out += verbatim(run)
            else:
                out += [".PP", line_safe(prose(" ".join(y.strip() for y in run)))]
            run = []
        if x is not None:
            run.append(x)
    return out


def roff_page(name, summary, section_title, version, date, usage, sections, see_also,
              command_pages=False):
    up = name.upper()
    out = ['.\\" SPDX-License-Identifier: Apache-2.0',
           f'.\\" Generated by scripts/helpgen.py from `{name.replace("-", " ", 1)} --help`: '
           "do not edit.",
           f'.TH "{up}" "1" "{date}" "ctrwatch {version}" "{section_title}"', ".nh", ".ad l",
           ".SH NAME", f"{name} \\- {esc(summary)}",
           ".SH SYNOPSIS", ".nf"]
    for u in usage:
        words = u.split(" ", 2)
        lead = " ".join(words[:2]) if len(words) > 1 and words[1][:1].isalpha() and \
            words[1].islower() else words[0]
        rest = u[len(lead):]
        out.append(line_safe("\\fB" + esc(lead) + "\\fR" + term(rest)))
    out.append(".fi")
    for title, blocks in sections:
        out.append(f'.SH "{esc(title)}"' if " " in title else f".SH {esc(title)}")
        examples = title.startswith("EXAMPLE")
        for b in blocks:
            if examples or (b[0].startswith(" ") and not is_item_list(b)):
                out += verbatim(b)
            elif is_item_list(b) and title != "DESCRIPTION" or b[0].lstrip().startswith("-"):
                for t, desc in items(b):
                    if command_pages and title == "COMMANDS":
                        out += [".TP", f"\\fB{esc(t)}\\fR (\\fBctrwatch\\-{esc(t)}\\fR(1))"]
                    else:
                        out += [".TP", line_safe(term(t))]
                    if desc:
                        out.append(line_safe(prose(" ".join(desc))))
            else:
                out += paragraph(b)
    if see_also:
        out += [".SH \"SEE ALSO\"", ",\n".join(f"\\fB{esc(s)}\\fR(1)" for s in see_also)]
    return "\n".join(out) + "\n"


def cmd_man(binary, outdir, date):
    version = subprocess.run([binary, "version", "--json"], capture_output=True,
                             text=True).stdout
    m = re.search(r'"version"\s*:\s*"([^"]+)"', version)
    version = m.group(1) if m else "unknown"
    cmds = commands(binary)
    os.makedirs(outdir, exist_ok=True)
    pages = {}
    usage, sections = parse(helptext(binary))
    pages["ctrwatch"] = roff_page("ctrwatch", "eBPF container runtime, observability and policy agent",
                                  "ctrwatch manual", version, date, usage, sections,
                                  [f"ctrwatch-{c}" for c, _ in cmds], command_pages=True)
    for c, summary in cmds:
        usage, sections = parse(helptext(binary, c))
        pages[f"ctrwatch-{c}"] = roff_page(f"ctrwatch-{c}", summary, "ctrwatch manual", version,
                                           date, usage, sections, ["ctrwatch"])
    for name, text in pages.items():
        path = os.path.join(outdir, name + ".1")
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    print("\n".join(sorted(n + ".1" for n in pages)))


# ---- completion ----

def option_lists(text):
    """The blocks of the help text that render as option or command lists."""
    _, sections = parse(text)
    for title, blocks in sections:
        for b in blocks:
            if title.startswith("EXAMPLE") or not b[0].startswith(" "):
                continue
            if (is_item_list(b) and title != "DESCRIPTION") or b[0].lstrip().startswith("-"):
                yield b


def options_of(text):
    """Every flag the option lists of the help text name (their terms)."""
    flags = []
    for b in option_lists(text):
        for t, _ in items(b):
            for f in re.findall(r"(?:^|(?<=[\s,/]))(--?[A-Za-z0-9][A-Za-z0-9-]*)", t):
                if f not in flags:
                    flags.append(f)
    return flags


def operands_of(text):
    usage, _ = parse(text)
    u = " ".join(usage)
    kinds = []
    if "CONTAINER" in u or re.search(r"\bID\b|NAME\|ID|\[ID", u):
        kinds.append("container")
    if "IMAGE" in u:
        kinds.append("image")
    return kinds


def subcommands_of(cmd, text):
    usage, _ = parse(text)
    subs = []
    for u in usage:
        m = re.match(rf"ctrwatch {re.escape(cmd)} ([a-z][a-z-]+)\b", u)
        if m and m.group(1) not in subs:
            subs.append(m.group(1))
    return subs


def spec(binary):
    out = []
    for c, summary in commands(binary):
        text = helptext(binary, c)
        out.append({"name": c, "summary": summary, "options": options_of(text),
                    "operands": operands_of(text), "subcommands": subcommands_of(c, text)})
    return out


BASH = r'''# SPDX-License-Identifier: Apache-2.0
# bash completion for ctrwatch.  Generated by scripts/helpgen.py from
# `ctrwatch --help` and each `ctrwatch COMMAND --help`: do not edit.

_ctrwatch_containers() {
	ctrwatch ps -a 2>/dev/null | awk 'NR > 1 {print $NF; print $1}'
}

_ctrwatch_images() {
	ctrwatch images 2>/dev/null | awk 'NR > 1 && $1 != "<none>" {print $1 (($2 != "" && $2 != "<none>") ? ":" $2 : "")}'
}

_ctrwatch() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i cmd= sub= nargs=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root) ((i++)) ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}
			else ((nargs++)); [[ -z $sub ]] && sub=${COMP_WORDS[i]}
			fi
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $prev == --root ]]; then
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "@COMMANDS@ --help --version --root" -- "$cur")
		fi
		return
	fi
	local opts= subs= operands=
	case $cmd in
@CASES@
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts --help" -- "$cur")
	elif [[ -n $subs && $nargs -eq 0 ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
	elif [[ $operands == *container* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ctrwatch_containers)" -- "$cur")
	elif [[ $operands == *image* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ctrwatch_images)" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _ctrwatch ctrwatch
'''

ZSH = r'''#compdef ctrwatch
# SPDX-License-Identifier: Apache-2.0
# zsh completion for ctrwatch.  Generated by scripts/helpgen.py from
# `ctrwatch --help` and each `ctrwatch COMMAND --help`: do not edit.

_ctrwatch() {
	local -a cmds opts subs operands rest
	cmds=(
@DESCRIBED@
	)
	local i cmd=
	rest=()
	for ((i = 2; i < CURRENT; i++)); do
		case ${words[i]} in
		--root) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; else rest+=(${words[i]}); fi ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ ${words[CURRENT-1]} == --root ]]; then
			_files -/
		elif [[ $PREFIX == -* ]]; then
			compadd -- --help --version --root
		else
			_describe -t commands 'ctrwatch command' cmds
		fi
		return
	fi
	case $cmd in
@CASES@
	esac
	if [[ $PREFIX == -* ]]; then
		compadd -- $opts --help
	elif (( ${#subs} && ${#rest} == 0 )); then
		compadd -- $subs
	elif (( ${operands[(I)container]} )); then
		compadd -- ${(f)"$(ctrwatch ps -a 2>/dev/null | awk 'NR > 1 {print $NF; print $1}')"}
	elif (( ${operands[(I)image]} )); then
		compadd -- ${(f)"$(ctrwatch images 2>/dev/null | awk 'NR > 1 && $1 != "<none>" {print $1 (($2 != "" && $2 != "<none>") ? ":" $2 : "")}')"}
	else
		_files
	fi
}

_ctrwatch "$@"
'''


def cmd_bash(binary, path):
    s = spec(binary)
    cases = []
    for c in s:
        cases.append(f'\t{c["name"]}) opts="{" ".join(c["options"])}" '
                     f'subs="{" ".join(c["subcommands"])}" operands="{" ".join(c["operands"])}" ;;')
    text = BASH.replace("@COMMANDS@", " ".join(c["name"] for c in s)).replace(
        "@CASES@", "\n".join(cases))
    write(path, text)


def zsh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def cmd_zsh(binary, path):
    s = spec(binary)
    described = "\n".join("\t\t" + zsh_quote(c["name"] + ":" + c["summary"].replace(":", "\\:"))
                          for c in s)
    cases = []
    for c in s:
        cases.append(f'\t{c["name"]}) opts=({" ".join(c["options"])}) '
                     f'subs=({" ".join(c["subcommands"])}) operands=({" ".join(c["operands"])}) ;;')
    text = ZSH.replace("@DESCRIBED@", described).replace("@CASES@", "\n".join(cases))
    write(path, text)


def write(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("man", "bash", "zsh", "commands"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    what, binary = argv[1], argv[2]
    if what == "commands":
        for name, summary in commands(binary):
            print(f"{name}\t{summary}")
    elif what == "man":
        date = argv[argv.index("--date") + 1] if "--date" in argv else "1970-01-01"
        cmd_man(binary, argv[3], date)
    elif what == "bash":
        cmd_bash(binary, argv[3])
    else:
        cmd_zsh(binary, argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
