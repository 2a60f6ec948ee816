#!/bin/sh
# make run: the offline demo. The daemon does not exist yet; say so.
echo "vigie: make run: the daemon ('vigie run') is not built yet; for now try: $1 help" >&2
exit 1
