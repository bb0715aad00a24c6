#!/usr/bin/env python3
"""scripts/check-layers over small made-up trees: each rule reports its
violation with file:line, a clean tree passes. Run: python3 THIS_FILE"""
import contextlib
import importlib.machinery
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check-layers")
loader = importlib.machinery.SourceFileLoader("check_layers", SCRIPT)
spec = importlib.util.spec_from_loader("check_layers", loader)
check_layers = importlib.util.module_from_spec(spec)
loader.exec_module(check_layers)

# A tree that keeps every rule; each test adds one file or include to it.
CLEAN = {
    "src/base/error.h": "",
    "src/base/str.h": '#include "base/error.h"\n',
    "include/careerbot/kb.h": '#include "base/error.h"\n',
    "src/core/text.h": '#include "careerbot/kb.h"\n',
    "src/core/kb.c": '#include "core/text.h"\n#include "base/str.h"\n#include <stdio.h>\n',
    "src/chat/chat_text.h": '#include "core/text.h"\n',
    "src/net/line_conn.h": '#include "base/error.h"\n',
    "src/irc/irc_network.c": '#include "chat/chat_text.h"\n#include "net/line_conn.h"\n',
    "src/app/main.c": '#include "irc/irc_network.h"\n',
    "src/irc/irc_network.h": '#include "net/line_conn.h"\n',
    "tests/support/test_util.h": '#include "careerbot/kb.h"\n',
    "tests/core/test_text.c": '#include "core/text.h"\n#include "test_util.h"\n',
    "fuzz/fuzz_irc.c": '#include "irc/irc_network.h"\n',
}


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check-layers-")
        self.addCleanup(shutil.rmtree, self.root)
        for path, text in CLEAN.items():
            self.write(path, text)

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as fh:
            fh.write(text)

    def run_check(self):
        out = io.StringIO()
        saved = sys.argv
        sys.argv = ["check-layers", self.root]
        try:
            with contextlib.redirect_stdout(out):
                status = check_layers.main()
        finally:
            sys.argv = saved
        return status, out.getvalue()

    def assert_problem(self, *needles):
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        for needle in needles:
            self.assertIn(needle, out)

    def test_clean_tree_passes(self):
        status, out = self.run_check()
        self.assertEqual(status, 0, out)
        self.assertIn("no circles", out)

    def test_include_from_a_layer_above(self):
        self.write("src/core/bad.c", '/* x */\n#include "chat/chat_text.h"\n')
        self.assert_problem('src/core/bad.c:2: includes "chat/chat_text.h"', "a layer above core")

    def test_public_api_counts_as_core(self):
        self.write("include/careerbot/bot.h", '#include "net/line_conn.h"\n')
        self.assert_problem("include/careerbot/bot.h:1:", "a layer above core")

    def test_layers_of_one_rank(self):
        self.write("src/chat/chat_gate.c", '#include "net/line_conn.h"\n')
        self.write("src/matrix/matrix_x.c", '\n\n#include "irc/irc_network.h"\n')
        self.assert_problem('src/chat/chat_gate.c:1: includes "net/line_conn.h"', "beside chat",
                            "src/matrix/matrix_x.c:3:", "beside matrix")

    def test_tests_follow_their_layer(self):
        self.write("tests/core/test_bad.c", '#include "irc/irc_network.h"\n')
        self.assert_problem("tests/core/test_bad.c:1:", "a layer above core")

    def test_program_does_not_include_test_headers(self):
        self.write("src/base/log.c", '#include "test_util.h"\n')
        self.assert_problem("src/base/log.c:1:", "not part of the program")

    def test_missing_header(self):
        self.write("src/base/log.c", '#include "base/nothing.h"\n')
        self.assert_problem('src/base/log.c:1: includes "base/nothing.h", which does not exist')

    def test_circle_of_includes(self):
        self.write("src/base/a.h", '#include "base/b.h"\n')
        self.write("src/base/b.h", '\n#include "base/c.h"\n')
        self.write("src/base/c.h", '#include "base/a.h"\n')
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("src/base/a.h:1: circle of includes: "
                      "src/base/a.h:1 -> src/base/b.h:2 -> src/base/c.h:1 -> src/base/a.h", out)
        self.assertEqual(out.count("circle of includes"), 1, out)  # one circle, told once

    def test_header_including_itself(self):
        self.write("src/base/self.h", '#include "self.h"\n')
        self.assert_problem("src/base/self.h:1: circle of includes")


if __name__ == "__main__":
    unittest.main()
