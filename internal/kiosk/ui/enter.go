package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// onEnter makes Enter in any of a form's fields act as its button, as a
// form on a web page does: when a field of the form is still empty, Enter
// moves to the first of them instead (so a codice fiscale typed and
// Enter leads on to the document number, and nobody sends a half form);
// when every field is filled, it submits. Nothing happens while an action
// runs, as the disabled button would.
func (u *UI) onEnter(submit func(), fields ...*widget.Entry) {
	for _, e := range fields {
		e.OnSubmitted = func(string) {
			if u.flow.View().Busy {
				return
			}
			for _, f := range fields {
				if strings.TrimSpace(f.Text) == "" {
					if c := fyne.CurrentApp().Driver().CanvasForObject(f); c != nil {
						c.Focus(f)
						return
					}
				}
			}
			submit()
		}
	}
}
