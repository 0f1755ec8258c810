"""One version, written once (grommunio_ocf.__version__), used everywhere."""

import configparser
import os
import re
import xml.etree.ElementTree as ET

from helpers import TOP
from grommunio_ocf import __version__


def test_the_version_is_written_once():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    config = configparser.ConfigParser()
    config.read(os.path.join(TOP, "setup.cfg"))
    assert config["metadata"]["version"] == "attr: grommunio_ocf.__version__"


def test_every_agents_metadata_carries_it():
    for name in os.listdir(os.path.join(TOP, "metadata")):
        root = ET.parse(os.path.join(TOP, "metadata", name)).getroot()
        assert root.get("version") == __version__, name
