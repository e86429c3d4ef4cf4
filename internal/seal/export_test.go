package seal

// SignatureChecks runs only the signature checks of VerifyPDF, so tests can
// afford to try every byte of the signature.
func SignatureChecks(b []byte, trust Trust) ([]Check, error) {
	rdr, err := openPDF(b)
	if err != nil {
		return nil, err
	}
	var res Result
	res.verifySignature(b, rdr, trust)
	return res.Checks, nil
}
