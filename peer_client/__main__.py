"""``python -m peer_client``: see ``peer_client.cli``."""

import sys

from peer_client.cli import main

if __name__ == "__main__":
    sys.exit(main())
