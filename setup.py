"""Build glue: ship ``autotrack-autolog.pth`` at the top of site-packages (zero-code autologging).

Everything else about the project lives in pyproject.toml. A ``.pth`` file must sit directly in
site-packages, which package data cannot do, so ``build_py`` copies it to the root of the build tree;
the wheel then installs it next to the ``autotrack`` package; editable installs get it too.
"""

from __future__ import annotations

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "autotrack-autolog.pth"


class build_py_with_pth(build_py):
    """``build_py`` that also places the start-up ``.pth`` file at the build root."""

    def run(self) -> None:
        super().run()
        here = os.path.dirname(os.path.abspath(__file__))
        os.makedirs(self.build_lib, exist_ok=True)
        shutil.copyfile(os.path.join(here, PTH), os.path.join(self.build_lib, PTH))
        if getattr(self, "editable_mode", False):
            # An editable wheel carries only links to the packages plus what is already laid out in
            # its unpacked tree (install_lib); put the .pth there so it reaches site-packages too.
            unpacked = self.distribution.get_command_obj("install").install_lib
            if unpacked:
                os.makedirs(unpacked, exist_ok=True)
                shutil.copyfile(os.path.join(here, PTH), os.path.join(unpacked, PTH))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), os.path.join(self.build_lib, PTH)]


setup(cmdclass={"build_py": build_py_with_pth})
