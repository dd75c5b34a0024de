package salesforce

import (
	"testing"

	"github.com/integ/integ/integtest"
)

// allStreams selects every queryable object of the fixture org: integtest
// only selects the streams a source declares, and these are listed at run
// time.
var allStreams = integtest.WithStreams("Account", "Contact", "Opportunity", "AccountHistory", "Document__c")

func TestConformance(t *testing.T) {
	o := newOrg()
	_, _, cfg := o.servers(t)
	cfg["bulk_objects"] = []string{"Contact"}
	integtest.Conformance(t, Source(), cfg, allStreams, integtest.WithSecrets(accessToken))
}
