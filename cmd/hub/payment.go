package main

import (
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/payment/paybolt"
)

// paymentAPI keeps payments in the hub's file and lets the desk use them:
// self-service requests with a cost are issued only once paid (issue 15).
func (c *cli) paymentAPI(h *hubFile, api *hubapi.Server, desk *issuance.Service, gw payment.Gateway) error {
	st, err := paybolt.New(h.DB())
	if err != nil {
		return err
	}
	desk.Payments = st
	api.Payments = &payment.Service{Store: st, Gateway: gw, Now: c.now}
	return nil
}
