#!/usr/bin/perl
# mkmmdb.pl - writes a small MaxMind DB (.mmdb) test database with Debian's
# libmaxmind-db-writer-perl (MaxMind::DB::Writer::Tree), in one of the record
# layouts flowtally must read (src/enrich/geo.h):
#
#   mkmmdb.pl OUT.mmdb LAYOUT IPVERSION NETWORK=VALUE...
#
#   LAYOUT  maxmind-country  {country => {iso_code, names}, continent => {code}}
#                            (GeoLite2-Country / DB-IP country lite)
#           iplocation       {country_code}           (ip-location-db country)
#           asn              {autonomous_system_number, autonomous_system_organization}
#                            (GeoLite2-ASN, DB-IP ASN lite, ip-location-db ASN)
#           ipinfo-asn       {asn => "AS64500", name}  (ipinfo)
#           combined         maxmind-country and asn in one record; VALUE is CC:ASN
#   IPVERSION 4 or 6 (6: IPv4 networks live under ::/96 and, MaxMind style,
#           are aliased at ::ffff:0:0/96 and 2002::/16)
#   NETWORK CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32; VALUE a country code
#           or an AS number.
#
# remove_reserved_networks => 0 lets the documentation and private ranges be
# inserted: the tests put them in the database to show that flowtally, not
# the database, leaves them without a country.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

die "usage: mkmmdb.pl OUT LAYOUT 4|6 NETWORK=VALUE...\n" unless @ARGV >= 3;
my ($out, $layout, $ipver, @nets) = @ARGV;

my %types = (
    country                        => 'map',
    continent                      => 'map',
    names                          => 'map',
    iso_code                       => 'utf8_string',
    code                           => 'utf8_string',
    en                             => 'utf8_string',
    country_code                   => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    asn                            => 'utf8_string',
    name                           => 'utf8_string',
);
my %dbtype = (
    'maxmind-country' => 'GeoLite2-Country',
    'iplocation'      => 'iplocation-country',
    'asn'             => 'GeoLite2-ASN',
    'ipinfo-asn'      => 'ipinfo-asn',
    'combined'        => 'Test-Country-ASN',
);
die "unknown layout $layout\n" unless $dbtype{$layout};

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $ipver,
    record_size              => 24,
    database_type            => $dbtype{$layout},
    languages                => ['en'],
    description              => { en => 'flowtally test database' },
    map_key_type_callback    => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => ( $ipver == 6 && $layout ne 'iplocation' ) ? 1 : 0,
);

sub country_rec {
    my ($cc) = @_;
    return { country => { iso_code => $cc, names => { en => "Country $cc" } }, continent => { code => 'EU' } };
}

for my $spec (@nets) {
    my ( $net, $value ) = split /=/, $spec, 2;
    die "bad NETWORK=VALUE: $spec\n" unless defined $value;
    my $rec;
    if ( $layout eq 'maxmind-country' ) {
        $rec = country_rec($value);
    } elsif ( $layout eq 'iplocation' ) {
        $rec = { country_code => $value };
    } elsif ( $layout eq 'asn' ) {
        $rec = { autonomous_system_number => $value + 0, autonomous_system_organization => "Org $value" };
    } elsif ( $layout eq 'ipinfo-asn' ) {
        $rec = { asn => "AS$value", name => "Org $value" };
    } else {
        my ( $cc, $asn ) = split /:/, $value;
        $rec = country_rec($cc);
        $rec->{autonomous_system_number}       = $asn + 0;
        $rec->{autonomous_system_organization} = "Org $asn";
    }
    $tree->insert_network( $net, $rec );
}

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
