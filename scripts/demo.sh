#!/usr/bin/env bash
# The demo: the hub with a synthetic city, and a kiosk enrolled to it and
# set up (kiosk setup) with a virtual CIE and file printers. Run by `make
# demo`; stops the hub when the kiosk's window is closed, or, without a
# display, on Ctrl-C after the kiosk's screens are saved.
#
#   DEMO_DATA     hub data directory (default demo-data); the kiosk's profile is DEMO_DATA/kiosk
#   DEMO_ADDR     where the hub listens (default 127.0.0.1:8080)
#   DEMO_MODE     operator or self-service (default operator)
#   DEMO_SHOTS    when set, walk through the main screens, save them there and quit
#   SPORTELLO_DEMO_SECRET  the passphrase the kiosk's keys are sealed with where
#                 there is no TPM2 (default demo-only-passphrase); an environment
#                 variable is for demos and tests only: a shop types it at start,
#                 or pipes it with --secret-stdin
#
# Without a display the kiosk runs under xvfb-run and saves its screens in
# DEMO_DATA/screenshots, so the demo still shows that everything works; the
# hub then keeps running, its log-ins and an enrolment code for another
# kiosk printed, until Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA=${DEMO_DATA:-demo-data}
ADDR=${DEMO_ADDR:-127.0.0.1:8080}
MODE=${DEMO_MODE:-operator}
PROFILE=$DATA/kiosk
HUB=./bin/hub
KIOSK=./bin/kiosk
GO=${GO:-go}

die() { echo "demo: $*" >&2; exit 1; }

# Fyne logs an error for the C locale; any UTF-8 locale will do.
case "${LANG:-C}" in C|C.*|POSIX|"") export LANG=en_US.UTF-8 ;; esac

[ -x "$HUB" ] || CGO_ENABLED=0 "$GO" build -o "$HUB" ./cmd/hub
echo "demo: building the kiosk (the first Fyne build takes a few minutes)"
"$GO" build -o "$KIOSK" ./cmd/kiosk || die "the kiosk did not build: it needs gcc and Debian's libgl1-mesa-dev xorg-dev libxkbcommon-dev (make deps)"

# hub serve --demo refuses a directory with a hub it did not make.
if [ -e "$DATA/hub.db" ] && [ ! -e "$DATA/DEMO" ]; then
	die "$DATA holds a hub the demo did not make (real data, or a demo older than its DEMO marker): remove it (make clean) or set DEMO_DATA"
fi
mkdir -p "$DATA"
HUB_OUT=$DATA/hub.out
: > "$HUB_OUT"
"$HUB" serve --demo --data "$DATA" --addr "$ADDR" > "$HUB_OUT" 2> "$DATA/hub.log" &
HUB_PID=$!
stop_hub() {
	if kill -0 "$HUB_PID" 2>/dev/null; then
		kill "$HUB_PID" 2>/dev/null || true
		wait "$HUB_PID" 2>/dev/null || true
		echo "demo: hub stopped"
	fi
}
trap stop_hub EXIT
trap 'exit 130' INT TERM

# Seeding the demo city takes a while on first start. The demo hub serves
# HTTPS with a certificate of its own (DATA/tls/cert.pem), which curl and
# the kiosk trust by that file and nothing else.
URL=""
for _ in $(seq 1 300); do
	kill -0 "$HUB_PID" 2>/dev/null || die "the hub stopped: $(tail -n 3 "$DATA/hub.log")"
	URL=$(sed -n 's/^hub listening on //p' "$HUB_OUT" | head -n 1)
	CA=$(sed -n 's/^TLS certificate: \(.*\) (SHA-256 .*)$/\1/p' "$HUB_OUT" | head -n 1)
	if [ -n "$URL" ] && [ -n "$CA" ] && curl -fsS --cacert "$CA" "$URL/healthz" > /dev/null 2>&1; then
		break
	fi
	URL=""
	sleep 0.5
done
[ -n "$URL" ] || die "the hub did not answer on $ADDR within 150 s"
FINGERPRINT=$(sed -n 's/^TLS certificate: .* (SHA-256 \(.*\))$/\1/p' "$HUB_OUT" | head -n 1)
echo "demo: hub up at $URL (staff console: $URL/admin/)"
echo "demo: its certificate is its own ($CA); a browser asks before trusting it: SHA-256 $FINGERPRINT"
# The counter needs a named clerk logged in: the demo hub enables one at
# each shop, whose CIE is the kiosk's virtual card (the same resident).
CLERK=$(sed -n 's/^demo clerk: //p' "$HUB_OUT" | head -n 1)
[ -z "$CLERK" ] || echo "demo: clerk $CLERK (log-in screen: type the PIN, then \"Entra con la CIE\")"
STAFF=$(sed -n 's/^staff log-in: //p' "$HUB_OUT" | head -n 1)
[ -z "$STAFF" ] || echo "demo: staff console log-in: $STAFF"

# The kiosk seals its keys with the TPM2 where there is one, else with a
# passphrase: the demo's comes from the environment, so nobody is asked.
export SPORTELLO_DEMO_SECRET=${SPORTELLO_DEMO_SECRET:-demo-only-passphrase}

# The hub prints a fresh enrolment code at every start; the kiosk spends it
# when it enrols, so a code for another kiosk is issued at the end.
CODE=$(sed -n 's/^enrolment code: //p' "$HUB_OUT" | head -n 1)
[ -n "$CODE" ] || die "the demo hub printed no enrolment code"
if [ ! -f "$PROFILE/device.json" ]; then
	"$KIOSK" enrol --hub "$URL" --hub-ca "$CA" --code "$CODE" --profile "$PROFILE" --name demo-kiosk
	CODE=""
fi
# The first run's set-up, as a shop does it with kiosk setup (or the
# kiosk's set-up screen): the shop's name, legal name, partita IVA and
# address from the hub's agreement, the printers files under the profile.
if [ ! -f "$PROFILE/kiosk.json" ]; then
	"$KIOSK" setup --profile "$PROFILE" --a4 "dir:$PROFILE/print/a4" --receipt "dir:$PROFILE/print/receipts" --cups ""
fi

# The virtual card becomes a living resident of the demo city holding a
# valid CIE, in a famiglia anagrafica with others: the hub identifies the
# citizen by the card itself and issues only about them and their household,
# so the demo shows both. (demo-household-nis: a demo-nis of an older demo
# may name someone who lives alone.)
NIS_FILE=$PROFILE/demo-household-nis
if [ ! -s "$NIS_FILE" ]; then
	for cf in $("$HUB" person list --data "$DATA" --limit 200 | awk '{print $1}'); do
		nis=$("$HUB" person show --data "$DATA" --cf "$cf" --purpose "demo: scelta del titolare della CIE virtuale" | awk '
			/^  died / || /^  AIRE / { gone = 1 }
			/^  residence / { residing = 1 }
			/^  document +CIE .* NIS [0-9]+,.*[(]valid[)]/ && nis == "" { match($0, /NIS [0-9]+/); nis = substr($0, RSTART + 4, RLENGTH - 4) }
			/^  famiglia anagrafica / { fam = 1; next }
			fam && /^    [A-Z0-9]+ / { members++; next }
			{ fam = 0 }
			END { if (!gone && residing && length(nis) == 12 && members >= 2) print nis }')
		if [ -n "$nis" ]; then
			(umask 077 && echo "$nis" > "$NIS_FILE")
			break
		fi
	done
fi
[ -s "$NIS_FILE" ] || die "no living resident of the demo city with a family holds a valid CIE"
NIS=$(cat "$NIS_FILE")

ARGS=(--demo --profile "$PROFILE" --mode "$MODE" --nis "$NIS" --hub "$URL")
if [ -n "${DEMO_SHOTS:-}" ]; then
	ARGS+=(--shots "$DEMO_SHOTS")
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	command -v xvfb-run > /dev/null || die "no display, and no xvfb-run to make one (Debian xvfb)"
	SHOTS=${DEMO_SHOTS:-$DATA/screenshots}
	echo "demo: no display; running the kiosk under Xvfb and saving its screens in $SHOTS"
	[ -n "${DEMO_SHOTS:-}" ] || ARGS+=(--shots "$SHOTS")
	xvfb-run -a -s "-screen 0 1280x800x24" "$KIOSK" "${ARGS[@]}" || echo "demo: the kiosk stopped with an error (above); the hub keeps running"
	# The hub stays up for the console and for other kiosks: what they
	# need, once more, at the end of the output.
	if [ -z "$CODE" ]; then
		OPERATOR=$(sed -n 's/^ *"operator_id": *"\([^"]*\)".*/\1/p' "$PROFILE/device.json" | head -n 1)
		CODE=$("$HUB" operator enrol-code --data "$DATA" --by demo "$OPERATOR" 2>/dev/null | sed -n 's/^enrolment code: //p' | head -n 1)
	fi
	echo
	echo "demo: the kiosk's screens are in $SHOTS"
	echo "demo: hub running at $URL (its certificate: $CA)"
	echo "demo: staff console $URL/admin/, log-in ${STAFF% at /admin/}"
	[ -z "$CLERK" ] || echo "demo: clerk $CLERK"
	if [ -n "$CODE" ]; then
		echo "demo: enrolment code for another kiosk: $CODE"
		echo "      kiosk enrol --hub $URL --hub-ca $CA --code $CODE --profile DIR, then kiosk setup --profile DIR (or kiosk --profile DIR for its set-up screen)"
	fi
	echo "demo: press Ctrl-C to stop the hub"
	# Ctrl-C reaches the hub too (the terminal's whole process group): it
	# shuts down cleanly and exits 0; any other end is a fault to show.
	if wait "$HUB_PID"; then
		echo "demo: hub stopped"
		exit 0
	fi
	die "the hub stopped: $(tail -n 3 "$DATA/hub.log")"
else
	echo "demo: kiosk window open; close it to stop the demo"
	"$KIOSK" "${ARGS[@]}"
fi
