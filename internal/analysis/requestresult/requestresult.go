// Package requestresult defines an analyzer that reports calls whose
// *requests.Request result is thrown away.
//
// The request builder is immutable: req.Query("a", "b") returns a new
// request and leaves req unchanged, so the call as a statement does
// nothing. Such a call was correct while the builder mutated its receiver,
// which makes it an easy leftover to miss. The analyzer reports any call
// whose only result is a *requests.Request that is discarded: as an
// expression statement, assigned to _, under go or defer, or assigned to a
// variable that is never read again (req = req.Query(k, v) in a helper that
// returns nothing, found in SSA form). That covers builder methods, method
// values and expressions, functions stored in struct fields and
// requests.New itself. Test files are checked too.
package requestresult

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/types/typeutil"
)

// RequestsPath is the import path of the package defining Request.
const RequestsPath = "github.com/integ/integ/requests"

// Analyzer reports discarded *requests.Request results.
var Analyzer = &analysis.Analyzer{
	Name: "requestresult",
	Doc: "report calls whose *requests.Request result is unused\n\n" +
		"The request builder never changes its receiver: req.Query(k, v) returns a new\n" +
		"request. A builder call whose result is dropped does nothing; assign it,\n" +
		"as in req = req.Query(k, v).",
	URL:      "https://pkg.go.dev/github.com/integ/integ/internal/analysis/requestresult",
	Requires: []*analysis.Analyzer{inspect.Analyzer, buildssa.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	reported := map[token.Pos]bool{} // by the call's Lparen, which SSA calls carry
	report := func(call *ast.CallExpr, stmt *ast.ExprStmt, where string) {
		if check(pass, call, stmt, where) {
			reported[call.Lparen] = true
		}
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	nodes := []ast.Node{
		(*ast.ExprStmt)(nil), (*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil),
		(*ast.GoStmt)(nil), (*ast.DeferStmt)(nil),
	}
	insp.Preorder(nodes, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ExprStmt:
			if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok {
				report(call, n, "")
			}
		case *ast.GoStmt:
			report(n.Call, nil, " under go")
		case *ast.DeferStmt:
			report(n.Call, nil, " under defer")
		case *ast.AssignStmt:
			// _ = req.Query(k, v), and _, _ = a.Header(...), b.Header(...)
			if len(n.Lhs) != len(n.Rhs) {
				return
			}
			for i, rhs := range n.Rhs {
				if call, ok := ast.Unparen(rhs).(*ast.CallExpr); ok && isBlank(n.Lhs[i]) {
					report(call, nil, " (assigned to _)")
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) != len(n.Values) {
				return
			}
			for i, v := range n.Values {
				if call, ok := ast.Unparen(v).(*ast.CallExpr); ok && n.Names[i].Name == "_" {
					report(call, nil, " (assigned to _)")
				}
			}
		}
	})
	deadStores(pass, reported)
	return nil, nil
}

// deadStores reports builder results that SSA shows are never used though
// the AST assigns them: req = req.Query(k, v) with req never read again.
// Calls already reported from the AST (statements, _ =) are skipped.
func deadStores(pass *analysis.Pass, reported map[token.Pos]bool) {
	for _, fn := range pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA).SrcFuncs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				call, ok := instr.(*ssa.Call)
				if !ok || reported[call.Pos()] || !isRequestPtr(call.Type()) {
					continue
				}
				if refs := call.Referrers(); refs != nil && len(*refs) > 0 {
					continue
				}
				what := "this call's *requests.Request result"
				if callee := call.Call.StaticCallee(); callee != nil {
					if f, ok := callee.Object().(*types.Func); ok {
						what = "the result of " + name(f)
					}
				}
				pass.Report(analysis.Diagnostic{
					Pos: call.Pos(),
					Message: what + " is assigned but never used: the request builder is immutable, " +
						"so the call changes nothing; return the new request, or use it",
				})
			}
		}
	}
}

// check reports call, and says so, when its only result is a
// *requests.Request. stmt, when not nil, is the expression statement
// holding call, for which a fix assigning the result back to the chain's
// receiver is offered.
func check(pass *analysis.Pass, call *ast.CallExpr, stmt *ast.ExprStmt, where string) bool {
	if !isRequestPtr(pass.TypesInfo.TypeOf(call)) {
		return false
	}
	what := "this call's *requests.Request result"
	if fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func); ok {
		what = "the result of " + name(fn)
	}
	d := analysis.Diagnostic{Pos: call.Pos(), End: call.End()}
	hint := "use the result (req = req.Query(k, v))"
	if recv := chainReceiver(pass, call); recv != nil {
		var buf bytes.Buffer
		if err := format.Node(&buf, token.NewFileSet(), recv); err == nil {
			hint = fmt.Sprintf("assign it (%s = %s...)", buf.String(), buf.String())
			if stmt != nil {
				d.SuggestedFixes = []analysis.SuggestedFix{{
					Message: "assign the result to " + buf.String(),
					TextEdits: []analysis.TextEdit{{
						Pos: stmt.Pos(), End: stmt.Pos(), NewText: append(buf.Bytes(), " = "...),
					}},
				}}
			}
		}
	}
	d.Message = fmt.Sprintf("%s is unused%s: the request builder is immutable, so the call changes nothing; %s",
		what, where, hint)
	pass.Report(d)
	return true
}

// chainReceiver returns the variable or field a chain of builder calls
// starts from (req in req.Query(..).Header(..)), or nil when the chain
// starts from a call or anything that cannot be assigned to.
func chainReceiver(pass *analysis.Pass, call *ast.CallExpr) ast.Expr {
	for {
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok || pass.TypesInfo.Selections[sel] == nil || !isRequestPtr(pass.TypesInfo.TypeOf(sel.X)) {
			return nil // a function, a method value in a variable, or requests.New
		}
		switch x := ast.Unparen(sel.X).(type) {
		case *ast.CallExpr:
			call = x
			continue
		case *ast.Ident:
			if _, ok := pass.TypesInfo.Uses[x].(*types.Var); ok {
				return x
			}
		case *ast.SelectorExpr:
			if s := pass.TypesInfo.Selections[x]; s != nil && s.Kind() == types.FieldVal {
				return x
			}
		case *ast.IndexExpr:
			return x
		}
		return nil
	}
}

func isRequestPtr(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := types.Unalias(p.Elem()).(*types.Named)
	if !ok {
		return false
	}
	obj := named.Obj()
	return obj.Name() == "Request" && obj.Pkg() != nil && obj.Pkg().Path() == RequestsPath
}

func isBlank(e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "_"
}

// name is (*requests.Request).Query for a method, requests.New for a function.
func name(fn *types.Func) string {
	sig := fn.Signature()
	if recv := sig.Recv(); recv != nil {
		t := recv.Type()
		star := ""
		if p, ok := t.(*types.Pointer); ok {
			t, star = p.Elem(), "*"
		}
		if named, ok := types.Unalias(t).(*types.Named); ok {
			return fmt.Sprintf("(%s%s.%s).%s", star, named.Obj().Pkg().Name(), named.Obj().Name(), fn.Name())
		}
		return fn.Name()
	}
	if fn.Pkg() != nil {
		return fn.Pkg().Name() + "." + fn.Name()
	}
	return fn.Name()
}
