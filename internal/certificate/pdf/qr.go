package pdf

import (
	"errors"
	"sync"

	"rsc.io/qr/coding"
)

// qrPlans caches rsc.io/qr's encoding plans, one per symbol version at
// level M and mask 0. qr.Encode builds the plan (the module layout) anew for
// every symbol, which was the larger half of encoding a seal; a plan is read
// only by Encode, so one can serve every rendering at once.
var qrPlans sync.Map // coding.Version → *coding.Plan

// encodeQR is qr.Encode(text, qr.M) with cached plans: the same choice of
// data encoding and of the smallest version, the same plan, hence the same
// symbol.
func encodeQR(text string) (*coding.Code, error) {
	var enc coding.Encoding
	switch {
	case coding.Num(text).Check() == nil:
		enc = coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		enc = coding.Alpha(text)
	default:
		enc = coding.String(text)
	}
	v := coding.Version(coding.MinVersion)
	for ; enc.Bits(v) > v.DataBytes(coding.M)*8; v++ {
		if v == coding.MaxVersion {
			return nil, errors.New("the text is too long for a QR code")
		}
	}
	p, ok := qrPlans.Load(v)
	if !ok {
		plan, err := coding.NewPlan(v, coding.M, 0)
		if err != nil {
			return nil, err
		}
		p, _ = qrPlans.LoadOrStore(v, plan)
	}
	return p.(*coding.Plan).Encode(enc)
}
