"""careerbot(1) as built (BUILD/careerbot.1) names every option that
`careerbot --help` lists, and man -l renders it without a warning.

Usage: test_manpage_options.py CAREERBOT PAGE"""

import os
import re
import shutil
import subprocess
import sys

bot, page = sys.argv[1], sys.argv[2]
text = open(page, encoding="utf-8").read()
helptext = subprocess.run([bot, "--help"], capture_output=True, text=True, timeout=30, check=True).stdout
options = sorted(set(re.findall(r"^\s+(--?[a-z][a-z-]*)", helptext, re.M)) |
                 set(re.findall(r",\s+(--[a-z][a-z-]*)", helptext)))
missing = [o for o in options if o.replace("-", "\\-") not in text]
if missing:
    sys.exit("careerbot(1) does not document: %s" % ", ".join(missing))
if not options or "--serve" not in options:
    sys.exit("could not read the options from --help:\n" + helptext)

for tool in ("man", "groff"):
    if not shutil.which(tool):
        print("%s not installed: rendering not checked" % tool)
        sys.exit(0)
env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env, timeout=60)
if r.returncode != 0 or r.stderr.strip():
    sys.exit("man -l warns:\n" + r.stderr)
if "careerbot" not in r.stdout or "SIGUSR1" not in r.stdout:
    sys.exit("man -l rendered something else:\n" + r.stdout[:2000])
print("careerbot(1): %d options documented, rendered without warnings" % len(options))
