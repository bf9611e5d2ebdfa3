#!/usr/bin/python3
"""man_drift.py BUILD: the man pages (man/*.1) against the commands' --help.

The man pages are written by hand, so nothing keeps them true but this test
(issue 18). For chordlet and chordlet-train it runs `PROG --help` and
`PROG COMMAND --help` for every command the first lists, and fails when
  - a command has no section `.SS "PROG COMMAND ..."` under COMMANDS (several
    commands may share one: `.SS "PROG stage1, stage2, supervised ..."`), or
    is missing from the SYNOPSIS;
  - an option of a command's --help (every --long and -s on its usage and
    option lines) is not a .TP tag of the command's section, or a tag there is
    an option the command no longer has;
  - a command's own subcommands (`usage: PROG real-music package ...`) are not
    tags of its section;
  - any --option the page mentions, in prose or examples, is an option of no
    command (a renamed or removed option left behind);
  - the page's version (.TH) is not the program's, or a section is missing;
  - groff (and mandoc, where installed) warn about the roff.
Then it damages a copy of a page (an option dropped, a stale one added) and
checks that both are caught, so a parser that stopped seeing options cannot
pass silently. --help and -h are left out: every command has them.
Exit 0 pass, 1 drift (each problem listed).
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = ("chordlet", "chordlet-train")
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS",
            "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO")
GENERIC = {"--help", "-h"}
# Options of other programs the pages quote (SEE ALSO: pkg-config).
FOREIGN = {"--cflags", "--libs"}
# An option token: --long or -s, not part of a longer word ("-30c", "re-run",
# "a-b" are not options).
OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?![\w-])")
LONG = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)(?![\w-])")
WORD = re.compile(r"[a-z][a-z0-9-]*$")


def run_help(prog, *args):
    p = subprocess.run([prog, *args, "--help"], capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise SystemExit(f"{os.path.basename(prog)} {' '.join(args)} --help exited {p.returncode}: {p.stderr}")
    return p.stdout


def help_commands(text):
    """The commands of `PROG --help`: two-space-indented words under "commands:"."""
    commands, inside = [], False
    for line in text.splitlines():
        if line.strip() == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"  ([a-z][a-z0-9-]*)(\s|$)", line)
            if m:
                commands.append(m.group(1))
    return commands


def help_options(prog, command, text):
    """Options and subcommands of `PROG COMMAND --help`.

    Options are read from the usage lines and from option lines (whose first
    character is '-'), not from prose; a short option only at a line's start
    (`  -o, --output DIR`). Subcommands are the words after COMMAND in usage
    lines (`usage: chordlet-train real-music package PKG ...`)."""
    options, subcommands = set(), set()
    name = os.path.basename(prog)
    usage = re.compile(r"^(?:usage:)?\s*" + re.escape(name) + r"\s+" + re.escape(command) + r"\b(.*)$")
    for line in text.splitlines():
        m = usage.match(line)
        if m and (line.startswith("usage:") or line.startswith(" ")):
            rest = m.group(1).split()
            if rest and WORD.match(rest[0]):
                subcommands.add(rest[0])
            options.update(LONG.findall(m.group(1)))
            continue
        if line.lstrip().startswith("-"):
            options.update(LONG.findall(line))
            s = re.match(r"\s*(-[a-zA-Z])(?:,|\s|$)", line)
            if s:
                options.add(s.group(1))
    return options - GENERIC, subcommands


def roff_text(line):
    """A roff line as the reader sees its words: requests' arguments joined
    (alternating-font macros without spaces), escapes resolved."""
    if line.startswith("."):
        parts = line.split(None, 1)
        macro, args = parts[0], parts[1] if len(parts) > 1 else ""
        words = [a if a is not None and a != "" else b
                 for a, b in re.findall(r'"((?:[^"]|"")*)"|(\S+)', args)]
        words = [w.replace('""', '"') for w in words]
        joiner = "" if re.match(r"\.(BR|RB|BI|IB|IR|RI)$", macro) else " "
        line = joiner.join(words)
    line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
    line = line.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
    line = re.sub(r"\\\((..)", "", line)
    return line


def parse_man(text, prog):
    """Sections, version, per-command tags, the SYNOPSIS words, every --long."""
    page = {"sections": [], "version": None, "commands": {}, "synopsis": set(), "mentions": set()}
    lines = text.splitlines()
    section, current = None, None
    for i, line in enumerate(lines):
        if line.startswith('.\\"') or line.startswith("'\\\""):
            continue
        page["mentions"].update(LONG.findall(roff_text(line)))
        if line.startswith(".TH "):
            words = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', line[4:])]
            page["version"] = words[3].split()[-1] if len(words) > 3 else None
        elif line.startswith(".SH"):
            section = roff_text(line).strip()
            page["sections"].append(section)
            current = None
        elif section == "SYNOPSIS":
            page["synopsis"].update(re.split(r"[\s|\[\]()]+", roff_text(line)))
        elif line.startswith(".SS") and section == "COMMANDS":
            heading = roff_text(line).strip()
            if heading.startswith(prog + " "):
                heading = heading[len(prog) + 1:]
            m = re.match(r"[a-z][a-z0-9-]*(?:, [a-z][a-z0-9-]*)*", heading)
            current = m.group(0).split(", ") if m else []
            for c in current:
                page["commands"].setdefault(c, {"options": set(), "tags": set()})
        elif re.match(r"\.(TP|TQ)\b", line) and current and i + 1 < len(lines):
            tag = roff_text(lines[i + 1]).strip()
            for c in current:
                page["commands"][c]["options"].update(set(OPTION.findall(tag)) - GENERIC)
                first = tag.split()[0] if tag.split() else ""
                if WORD.match(first):
                    page["commands"][c]["tags"].add(first)
    return page


def check(prog_path, page_text, helps, all_options):
    """The problems of one page against one program's --help texts."""
    prog = os.path.basename(prog_path)
    page = parse_man(page_text, prog)
    problems = []
    for s in SECTIONS:
        if s not in page["sections"]:
            problems.append(f"no {s} section")
    version = subprocess.run([prog_path, "version"], capture_output=True, text=True).stdout.split()[-1]
    if page["version"] != version:
        problems.append(f".TH says version {page['version']}, {prog} version says {version}")
    for command, (options, subcommands) in helps.items():
        if command not in page["synopsis"]:
            problems.append(f"{command}: not in the SYNOPSIS")
        documented = page["commands"].get(command)
        if documented is None:
            problems.append(f"{command}: no section .SS \"{prog} {command} ...\" under COMMANDS")
            continue
        for o in sorted(options - documented["options"]):
            problems.append(f"{command}: {o} is in `{prog} {command} --help` but not in the man page")
        for o in sorted(documented["options"] - options):
            problems.append(f"{command}: the man page documents {o}, which `{prog} {command} --help` does not have")
        for s in sorted(subcommands - documented["tags"]):
            problems.append(f"{command}: its subcommand {s} has no .TP entry")
    for command in sorted(set(page["commands"]) - set(helps)):
        problems.append(f"the man page documents a command {command} that `{prog} --help` does not list")
    for o in sorted(page["mentions"] - all_options - FOREIGN - {"--help", "--version"}):
        problems.append(f"the man page mentions {o}, an option of no command")
    return problems


def lint(path):
    """groff's and mandoc's warnings about the roff itself."""
    problems = []
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-ww", "-z", path], capture_output=True, text=True)
        problems += [f"groff: {w}" for w in p.stderr.splitlines()]
    elif os.environ.get("CI") == "true":
        problems.append("groff is not installed (scripts/debian-packages: groff-base)")
    else:
        print(f"note: groff is not installed; {os.path.basename(path)}'s roff is not checked")
    if shutil.which("mandoc"):  # optional: a second, stricter reader
        p = subprocess.run(["mandoc", "-Tlint", "-Wwarning", path], capture_output=True, text=True)
        problems += [f"mandoc: {w}" for w in (p.stdout + p.stderr).splitlines()]
    return problems


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    helps, problems = {}, []
    for prog in PROGRAMS:
        path = os.path.join(build, prog)
        top = run_help(path)
        commands = help_commands(top)
        if len(commands) < 3:
            problems.append(f"{prog} --help: found only {commands}: did its format change?")
        helps[prog] = {c: help_options(path, c, run_help(path, c)) for c in commands}
    all_options = set()
    for prog in PROGRAMS:
        for options, _ in helps[prog].values():
            all_options |= {o for o in options if o.startswith("--")}
    pages = {}
    for prog in PROGRAMS:
        man = os.path.join(ROOT, "man", prog + ".1")
        with open(man, encoding="utf-8") as f:
            pages[prog] = f.read()
        found = check(os.path.join(build, prog), pages[prog], helps[prog], all_options) + lint(man)
        problems += [f"{prog}.1: {p}" for p in found]
        n_options = sum(len(o) for o, _ in helps[prog].values())
        print(f"{prog}.1: {len(helps[prog])} commands, {n_options} options checked")

    # The test of the test: drop transcribe's --skip-existing and document a
    # --gone option; both must be reported.
    damaged = pages["chordlet"].replace("\\fB\\-\\-skip\\-existing\\fP", "\\fB\\-\\-gone\\fP", 1)
    if damaged == pages["chordlet"]:
        problems.append("self-test: chordlet.1 no longer has the --skip-existing entry it damages")
    else:
        found = check(os.path.join(build, "chordlet"), damaged, helps["chordlet"], all_options)
        for expected in ("--skip-existing is in", "documents --gone", "mentions --gone"):
            if not any(expected in p for p in found):
                problems.append(f"self-test: a damaged chordlet.1 was not caught ({expected!r} missing in {found})")

    for p in problems:
        print("FAIL", p)
    print("man pages match --help" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
