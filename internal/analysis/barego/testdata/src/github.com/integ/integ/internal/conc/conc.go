package conc

// Go is allowed to use the go statement: this is the allow-listed package.
func Go(fn func()) {
	go fn()
}
