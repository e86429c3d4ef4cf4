package httpsig

import (
	"fmt"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// Limits on what a parser accepts, so a hostile header cannot make the hub
// allocate or loop without bound. Real signatures are far below them.
const (
	maxLabels     = 8
	maxComponents = 32
	maxParamLen   = 256
)

// Component identifies one covered message component (RFC 9421 section 2).
type Component struct {
	Name      string // a lower-case field name, or a derived component such as "@method"
	Req       bool   // the value comes from the request a response answers (";req")
	BS        bool   // field values are wrapped as byte sequences (";bs")
	QueryName string // the ";name" parameter of "@query-param"
	// Key is the ";key" parameter: the value is that member of a Dictionary
	// field (RFC 9421 section 2.1.2), such as one label of a request's
	// Signature field, which a response covers to answer that request only.
	Key string

	// id is the identifier exactly as a received Signature-Input serialized
	// it, parameters in their order; empty for components built locally.
	id string
	// unsupported names a parameter this package cannot evaluate.
	unsupported string
}

// String is the serialized component identifier used in the signature base.
func (c Component) String() string {
	if c.id != "" {
		return c.id
	}
	s, err := httpsfv.Marshal(httpsfv.List{c.item()})
	if err != nil {
		// Only a name that is not a valid sf-string gets here; quote it
		// plainly so the mistake shows in the base rather than panicking.
		return fmt.Sprintf("%q", c.Name)
	}
	return s
}

func (c Component) item() httpsfv.Item {
	it := httpsfv.NewItem(c.Name)
	if c.QueryName != "" {
		it.Params.Add("name", c.QueryName)
	}
	if c.Req {
		it.Params.Add("req", true)
	}
	if c.Key != "" {
		it.Params.Add("key", c.Key)
	}
	if c.BS {
		it.Params.Add("bs", true)
	}
	return it
}

// C is shorthand for a plain component identifier such as C("@method").
func C(name string) Component { return Component{Name: name} }

// same reports whether c and d name the same component, whatever the order
// their parameters were serialized in.
func (c Component) same(d Component) bool {
	return c.Name == d.Name && c.Req == d.Req && c.BS == d.BS && c.QueryName == d.QueryName && c.Key == d.Key &&
		c.unsupported == "" && d.unsupported == ""
}

// Params are the signature parameters of RFC 9421 section 2.3. A zero time
// or empty string leaves the parameter out.
type Params struct {
	Created time.Time
	Expires time.Time
	Nonce   string
	KeyID   string
	Alg     string
	Tag     string
}

// SignatureInput is one labelled member of a Signature-Input field.
type SignatureInput struct {
	Label      string
	Components []Component
	Params

	// list is the inner list as received (or as built for signing); its
	// serialization is the "@signature-params" value.
	list httpsfv.InnerList
}

// SignatureParams is the "@signature-params" value: the serialized inner
// list, and so also the part of the Signature-Input field after "label=".
func (in *SignatureInput) SignatureParams() (string, error) {
	return httpsfv.Marshal(httpsfv.List{in.list})
}

// newSignatureInput builds the inner list for signing, parameters in a
// fixed order so equal inputs serialize equally.
func newSignatureInput(label string, components []Component, p Params) (*SignatureInput, error) {
	if len(components) > maxComponents {
		return nil, fmt.Errorf("a signature covers at most %d components, %d were asked for", maxComponents, len(components))
	}
	items := make([]httpsfv.Item, len(components))
	seen := make(map[string]bool, len(components))
	for i, c := range components {
		if c.Name == "" || c.Name != strings.ToLower(c.Name) {
			return nil, fmt.Errorf("component name %q must be non-empty and lower case", c.Name)
		}
		id := c.String()
		if seen[id] {
			return nil, fmt.Errorf("component %s is listed twice; a signature covers each component once", id)
		}
		seen[id] = true
		items[i] = c.item()
	}
	params := httpsfv.NewParams()
	if !p.Created.IsZero() {
		params.Add("created", p.Created.Unix())
	}
	if !p.Expires.IsZero() {
		params.Add("expires", p.Expires.Unix())
	}
	for _, sp := range []struct{ k, v string }{{"nonce", p.Nonce}, {"keyid", p.KeyID}, {"alg", p.Alg}, {"tag", p.Tag}} {
		if sp.v != "" {
			params.Add(sp.k, sp.v)
		}
	}
	in := &SignatureInput{Label: label, Components: components, Params: p,
		list: httpsfv.InnerList{Items: items, Params: params}}
	if _, err := in.SignatureParams(); err != nil {
		return nil, fmt.Errorf("signature parameters cannot be serialized as a structured field: %w", err)
	}
	return in, nil
}

// ParseSignatureInput parses the Signature-Input field values of a message
// (RFC 9421 section 4.1) into its labelled signatures, in field order.
func ParseSignatureInput(values []string) ([]SignatureInput, error) {
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, refuseErr(ReasonMalformedSignatureInput,
			"the Signature-Input field is not a valid structured-field dictionary: "+err.Error(), err)
	}
	names := dict.Names()
	if len(names) > maxLabels {
		return nil, refuse(ReasonMalformedSignatureInput,
			fmt.Sprintf("the Signature-Input field has %d signatures, at most %d are accepted", len(names), maxLabels))
	}
	out := make([]SignatureInput, 0, len(names))
	for _, label := range names {
		m, _ := dict.Get(label)
		il, ok := m.(httpsfv.InnerList)
		if !ok {
			return nil, refuse(ReasonMalformedSignatureInput,
				fmt.Sprintf("Signature-Input member %q is not an inner list of component identifiers", label))
		}
		in, err := parseInnerList(label, il)
		if err != nil {
			return nil, err
		}
		out = append(out, *in)
	}
	return out, nil
}

func parseInnerList(label string, il httpsfv.InnerList) (*SignatureInput, error) {
	bad := func(format string, a ...any) error {
		return refuse(ReasonMalformedSignatureInput,
			fmt.Sprintf("Signature-Input member %q: ", label)+fmt.Sprintf(format, a...))
	}
	if len(il.Items) > maxComponents {
		return nil, bad("it covers %d components, at most %d are accepted", len(il.Items), maxComponents)
	}
	in := &SignatureInput{Label: label, list: il}
	seen := make(map[string]bool, len(il.Items))
	for _, it := range il.Items {
		name, ok := it.Value.(string)
		if !ok {
			return nil, bad("component identifiers must be strings, got %T", it.Value)
		}
		if name == "" || name != strings.ToLower(name) {
			return nil, bad("component name %q must be non-empty and lower case", name)
		}
		id, err := httpsfv.Marshal(httpsfv.List{it})
		if err != nil {
			return nil, bad("component %q cannot be re-serialized: %v", name, err)
		}
		if seen[id] {
			return nil, bad("component %s is listed twice", id)
		}
		seen[id] = true
		c := Component{Name: name, id: id}
		for _, k := range it.Params.Names() {
			v, _ := it.Params.Get(k)
			switch k {
			case "req":
				c.Req = v == true
			case "bs":
				c.BS = v == true
			case "name":
				s, ok := v.(string)
				if !ok {
					return nil, bad("the name parameter of %s must be a string", id)
				}
				c.QueryName = s
			case "key":
				s, ok := v.(string)
				if !ok || s == "" {
					return nil, bad("the key parameter of %s must be a non-empty string", id)
				}
				c.Key = s
			default:
				c.unsupported = k
			}
		}
		in.Components = append(in.Components, c)
	}
	for _, k := range il.Params.Names() {
		v, _ := il.Params.Get(k)
		switch k {
		case "created", "expires":
			n, ok := v.(int64)
			if !ok {
				return nil, bad("parameter %s must be an integer number of seconds since 1970", k)
			}
			t := time.Unix(n, 0).UTC()
			if k == "created" {
				in.Created = t
			} else {
				in.Expires = t
			}
		case "nonce", "keyid", "alg", "tag":
			s, ok := v.(string)
			if !ok {
				return nil, bad("parameter %s must be a string", k)
			}
			if len(s) > maxParamLen {
				return nil, bad("parameter %s is %d bytes long, at most %d are accepted", k, len(s), maxParamLen)
			}
			switch k {
			case "nonce":
				in.Nonce = s
			case "keyid":
				in.KeyID = s
			case "alg":
				in.Alg = s
			case "tag":
				in.Tag = s
			}
		}
	}
	return in, nil
}

// ParseSignature parses the Signature field values of a message (RFC 9421
// section 4.2) into the signature bytes of each label.
func ParseSignature(values []string) (map[string][]byte, error) {
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, refuseErr(ReasonMalformedSignature,
			"the Signature field is not a valid structured-field dictionary: "+err.Error(), err)
	}
	names := dict.Names()
	if len(names) > maxLabels {
		return nil, refuse(ReasonMalformedSignature,
			fmt.Sprintf("the Signature field has %d signatures, at most %d are accepted", len(names), maxLabels))
	}
	out := make(map[string][]byte, len(names))
	for _, label := range names {
		m, _ := dict.Get(label)
		it, ok := m.(httpsfv.Item)
		if !ok {
			return nil, refuse(ReasonMalformedSignature, fmt.Sprintf("Signature member %q is not a byte sequence", label))
		}
		b, ok := it.Value.([]byte)
		if !ok {
			return nil, refuse(ReasonMalformedSignature, fmt.Sprintf("Signature member %q is not a byte sequence", label))
		}
		out[label] = b
	}
	return out, nil
}
