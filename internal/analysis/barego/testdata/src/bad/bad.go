package bad

func work() {}

func spawn() {
	go work() // want `bare go statement: use internal/conc \(Go, DoCtx\) so panics are recovered`

	go func() { // want `bare go statement`
		work()
	}()

	defer work() // defer is fine
}
