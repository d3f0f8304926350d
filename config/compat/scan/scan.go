// Package scan finds which configuration fields the code reads: it type-
// checks the module and records every selector (x.Field) on a struct of
// config/static or config/dynamic, outside config/ and outside tests. An
// assignment's target is a write, not a read.
package scan

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Module is the import path of the module scanned.
const Module = "github.com/switchyard-proxy/switchyard"

// Readers maps "import/path.Type.Field" of the config fields read to the
// packages reading them.
type Readers map[string][]string

// Scan loads every package under dir (the module root).
func Scan(dir string) (Readers, error) {
	cfg := &packages.Config{
		Dir:  dir,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	readers := Readers{}
	var loadErrs []string
	// Accessor methods of config types (Effective, ListenAddress…): the
	// fields they read count as read where the method is called.
	methods := map[*types.Func][]string{}
	for _, p := range pkgs {
		if configType(p.PkgPath) {
			for _, f := range p.Syntax {
				recordMethodReads(p, f, methods)
			}
		}
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e.Error())
		}
		if skipPackage(p.PkgPath) {
			continue
		}
		for _, f := range p.Syntax {
			recordReads(p, f, methods, readers)
		}
	}
	if len(loadErrs) > 0 {
		return nil, fmt.Errorf("type-checking the module: %s", strings.Join(loadErrs, "; "))
	}
	return readers, nil
}

// skipPackage: config/ itself, tests and tools do not count as readers.
func skipPackage(path string) bool {
	rel := strings.TrimPrefix(path, Module)
	return rel == path || strings.HasPrefix(rel, "/config/") || strings.HasPrefix(rel, "/integration") ||
		strings.HasPrefix(rel, "/bench") || strings.HasPrefix(rel, "/scripts")
}

func configType(pkg string) bool {
	return pkg == Module+"/config/static" || pkg == Module+"/config/dynamic"
}

// notAccessors are config methods that touch every field without acting
// on any: calling them reads nothing.
var notAccessors = map[string]bool{
	"SetDefaults": true, "SetEffectiveConfiguration": true, "Validate": true, "Normalize": true,
}

func recordMethodReads(p *packages.Package, f *ast.File, methods map[*types.Func][]string) {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || fd.Body == nil || notAccessors[fd.Name.Name] || !ast.IsExported(fd.Name.Name) {
			continue
		}
		fn, _ := p.TypesInfo.Defs[fd.Name].(*types.Func)
		if fn == nil {
			continue
		}
		r := Readers{}
		recordReads(p, fd.Body, nil, r)
		for id := range r {
			methods[fn] = append(methods[fn], id)
		}
	}
}

func add(readers Readers, id, pkg string) {
	if rs := readers[id]; len(rs) == 0 || rs[len(rs)-1] != pkg {
		readers[id] = append(rs, pkg)
	}
}

// structFields records every field of a config struct type t (a value
// converted to another struct type is read whole).
func structFields(t types.Type, pkg string, readers Readers) {
	if ptr, ok := t.Underlying().(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() == nil || !configType(named.Obj().Pkg().Path()) {
		return
	}
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return
	}
	for i := range st.NumFields() {
		add(readers, named.Obj().Pkg().Path()+"."+named.Obj().Name()+"."+st.Field(i).Name(), pkg)
	}
}

func recordReads(p *packages.Package, f ast.Node, methods map[*types.Func][]string, readers Readers) {
	writes := map[*ast.SelectorExpr]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				if s, ok := ast.Unparen(lhs).(*ast.SelectorExpr); ok {
					writes[s] = true
				}
			}
		case *ast.CallExpr:
			// A conversion T(x) of a config struct reads all of x.
			if tv, ok := p.TypesInfo.Types[n.Fun]; ok && tv.IsType() && len(n.Args) == 1 {
				if at, ok := p.TypesInfo.Types[n.Args[0]]; ok {
					structFields(at.Type, p.PkgPath, readers)
				}
			}
		case *ast.SelectorExpr:
			if writes[n] {
				return true
			}
			sel, ok := p.TypesInfo.Selections[n]
			if ok && sel.Kind() == types.MethodVal {
				if fn, ok := sel.Obj().(*types.Func); ok {
					for _, id := range methods[fn] {
						add(readers, id, p.PkgPath)
					}
				}
				return true
			}
			if !ok || sel.Kind() != types.FieldVal {
				return true
			}
			owner := fieldOwner(sel)
			if owner == nil || owner.Obj().Pkg() == nil || !configType(owner.Obj().Pkg().Path()) {
				return true
			}
			add(readers, owner.Obj().Pkg().Path()+"."+owner.Obj().Name()+"."+sel.Obj().Name(), p.PkgPath)
		}
		return true
	})
}

// fieldOwner is the named struct type declaring the selected field
// (following embedded fields).
func fieldOwner(sel *types.Selection) *types.Named {
	t := sel.Recv()
	idx := sel.Index()
	for i, fi := range idx {
		for {
			if ptr, ok := t.Underlying().(*types.Pointer); ok {
				t = ptr.Elem()
				continue
			}
			break
		}
		named, _ := t.(*types.Named)
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return nil
		}
		if i == len(idx)-1 {
			return named
		}
		t = st.Field(fi).Type()
	}
	return nil
}
