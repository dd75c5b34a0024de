package driver

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type failAfter struct {
	bytes.Buffer
	n int
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return w.Buffer.Write(p)
}

func TestOutput(t *testing.T) {
	w := &failAfter{n: 3}
	o := NewOutput(w)
	o.SetFilter(func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("s3cr3t"), []byte("****")) })
	if err := o.Write([]byte("token s3cr3t\n")); err != nil {
		t.Fatal(err)
	}
	if err := o.WriteUnfiltered([]byte("config s3cr3t\n")); err != nil {
		t.Fatal(err)
	}
	err := o.Locked(func(write func([]byte) error) error {
		if err := write([]byte("records s3cr3t\n")); err != nil {
			return err
		}
		return write([]byte("state\n")) // the writer fails here
	})
	if err == nil || o.Err() == nil || o.Write([]byte("later\n")) == nil {
		t.Fatalf("the first write error must stick: %v, %v", err, o.Err())
	}
	if got, want := w.String(), "token ****\nconfig s3cr3t\nrecords ****\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if strings.Contains(w.String(), "later") {
		t.Error("wrote after an error")
	}
}
